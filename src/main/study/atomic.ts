/** Atomic, checked file writes (synchronous): a crash or a full disk leaves the old file or the new one, never half of one. */
export { writeFileAtomicSync as writeFileAtomic, writeJsonAtomicSync as writeJsonAtomic } from '../data/atomic';
