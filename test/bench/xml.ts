/**
 * A minimal XML well-formedness check for the SVG tests (no XML parser among the dependencies):
 * balanced, properly nested tags, quoted attributes, no stray '<' or unescaped '&' in text.
 */
export function checkWellFormed(xml: string): string[] {
  const errors: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  const checkText = (text: string): void => {
    if (text.includes('<')) errors.push(`stray '<' in ${JSON.stringify(text.slice(0, 40))}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) errors.push(`unescaped '&' in ${JSON.stringify(text.slice(0, 40))}`);
  };
  while ((m = tag.exec(body)) !== null) {
    checkText(body.slice(last, m.index));
    last = m.index + m[0].length;
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) errors.push(`</${name}> closes <${open}>`);
    } else if (!selfClose) stack.push(name!);
  }
  checkText(body.slice(last));
  if (stack.length > 0) errors.push(`unclosed: ${stack.join(', ')}`);
  if (!body.trimStart().startsWith('<svg')) errors.push('root element is not <svg>');
  return errors;
}
