import { resolve } from 'node:path';

/** The abort reason of a job that a newer request for the same file replaced. */
export class Superseded extends Error {
  constructor(readonly byJobId: string) {
    super(`superseded by job ${byJobId}`);
    this.name = 'Superseded';
  }
}

export interface Job {
  key: string;
  jobId: string;
  controller: AbortController;
}

/** The running jobs, at most one per (kind, file): starting a second one aborts the first. */
export class JobRegistry {
  private readonly running = new Map<string, Job>();

  start(kind: string, file: string, jobId: string): Job {
    const key = `${kind}:${resolve(file)}`;
    const older = this.running.get(key);
    if (older) older.controller.abort(new Superseded(jobId));
    const job: Job = { key, jobId, controller: new AbortController() };
    this.running.set(key, job);
    return job;
  }

  finish(job: Job): void {
    if (this.running.get(job.key) === job) this.running.delete(job.key);
  }

  abortAll(): void {
    for (const job of this.running.values()) job.controller.abort(new Error('worker shutting down'));
    this.running.clear();
  }

  get size(): number {
    return this.running.size;
  }
}
