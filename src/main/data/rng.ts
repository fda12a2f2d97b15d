/**
 * The simulation's seeded generator now lives in ../numeric/rng.ts; this name is kept for
 * the classical arm's modules until they import it from there.
 */
export { simulationRng as createRng, type Rng } from '../numeric/rng';
