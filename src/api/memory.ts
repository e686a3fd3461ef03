// memory.ts: native memory and threads, as facts a user or a test can read.
import { native } from '../native/addon.js';
import { checkInt } from './validate.js';

export interface MemoryStats {
  /** Bytes held by live native tensors (also reported to V8 as external memory). */
  liveBytes: number;
  /** The high-water mark of liveBytes since the last resetPeakMemory(). */
  peakBytes: number;
  liveBuffers: number;
}

export function memoryStats(): MemoryStats {
  return native().memoryStats();
}
/** V8's total of externally allocated memory, which includes every native tensor byte (it drives V8's GC pressure). */
export function v8ExternalMemory(): number {
  return native().v8ExternalMemory();
}
export function resetPeakMemory(): void {
  native().resetPeakMemory();
}
/** Worker threads of the native pool (TREEREWARD_THREADS, else the machine's cores). */
export function numThreads(): number {
  return native().numThreads();
}
export function setNumThreads(n: number): void {
  native().setNumThreads(checkInt(n, 'threads', 1));
}
/** True when this build has CUDA and a GPU is visible. */
export function hasCuda(): boolean {
  return native().hasCuda();
}
export function buildInfo(): { blas: boolean; cudaCompiled: boolean; cudaDevice: string; threads: number } {
  return native().buildInfo();
}
