"""Calling lipdp from Python: run the CLI with --json and read the report.

lipdp is a Node.js package; install it into a folder next to your Python project (from a clone,
a git URL or a packed tarball, see the README's Install section) and pass the command that runs it
(the default, `npx --no-install lipdp`, works when the current directory is that folder). The report's fields
are described in docs/report.md and docs/report.schema.json.

    python docs/python_example.py model.onnx [--refine-time 10 ...]
"""

import json
import subprocess
import sys

# Exit codes of `lipdp estimate` (docs/report.md).
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NOT_CERTIFIED = 0, 1, 2, 3


class LipdpError(RuntimeError):
    """lipdp rejected the input (exit code 2) or failed internally (exit code 1)."""

    def __init__(self, code, message, exit_code):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.exit_code = exit_code


def estimate(model_path, *extra_args, lipdp=("npx", "--no-install", "lipdp"), timeout=None):
    """Certify a Lipschitz bound for an ONNX (or lipdp-ssm JSON) model; return the report dict.

    report["upperBound"] is None exactly when report["status"] == "failed" (nothing certified).
    """
    cmd = [*lipdp, "estimate", str(model_path), "--json", "--quiet", *extra_args]
    # stdout carries exactly one JSON document: the report, or {"error": {...}} on failure.
    # stderr has the human-readable notices; keep it for messages.
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise LipdpError("NO_JSON", (proc.stderr or proc.stdout).strip(), proc.returncode) from None
    if "error" in out:
        raise LipdpError(out["error"]["code"], out["error"]["message"], proc.returncode)
    if out.get("schemaVersion") != 1:
        raise LipdpError("SCHEMA", f"report schema {out.get('schemaVersion')} is not the one this script knows", proc.returncode)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        r = estimate(sys.argv[1], *sys.argv[2:])
    except LipdpError as e:
        print(f"lipdp failed ({e.exit_code}): {e}", file=sys.stderr)
        sys.exit(e.exit_code or 1)
    if r["status"] == "failed":
        print("nothing could be certified")
        sys.exit(EXIT_NOT_CERTIFIED)
    # certified: from the optimised multipliers; fallback: from the closed-form start or the naive
    # product (r["certificate"]["source"]); either way upperBound is a proven bound.
    print(f"L <= {r['upperBound']:.6g}  ({r['status']}, source {r['certificate']['source']})")
    print(f"empirical lower bound {r['lowerBound']:.6g}, naive bound {r['naiveBound']}")
    print(f"lipdp {r['lipdpVersion']}, {r['timings']['total'] / 1000:.1f} s")


if __name__ == "__main__":
    main()
