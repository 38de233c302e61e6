/** The placement core: which waiting job starts where, and why the others wait. */

export { whyNeverRunnable } from "./never-runnable.ts";
export { MAX_RESERVATIONS, placeJobs } from "./place-jobs.ts";
export type * from "./types.ts";
