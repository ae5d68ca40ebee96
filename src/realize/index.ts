/**
 * State-space realizations of convolutions: 2-D Roesser systems for conv2d (docs/method.md §3.2.1),
 * pure-delay systems and the PyTorch ↔ Roesser index alignment for skips (§5.3a), the 1-D
 * specialisation and LTI SSMs (§8 item 12), and reference simulators to test all of them.
 */
export type { RoesserSystem, ConvRoesser, RoesserFull } from './roesser.js';
export { roesserOfConv, roesserFull } from './roesser.js';
export type { AxisDelay, ConvDelay, ConvGeometry } from './delay.js';
export { axisDelay, convDelay, chainDelay, extraInputDelay, roesserOfDelay } from './delay.js';
export type { FeatureMap } from './simulate.js';
export { simulateRoesser, conv2dDirect, convOutputLength, embedMap, cropMap } from './simulate.js';
export type { LtiSsm, Conv1dSsm } from './oned.js';
export { ssmDims, simulateLti, ssmOfConv1d, simulateConv1dSsm, conv1dDirect } from './oned.js';
export type { ExpandedKernel2d } from './kernel.js';
export { effectiveExtent, expandKernel2d, expandKernel1d } from './kernel.js';
export { roesserOfConvLayer, layerDelay, denseKernelOfGrouped } from './layer.js';
