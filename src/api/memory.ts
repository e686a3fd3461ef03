// memory.ts: native memory and threads, as facts a user or a test can read.
import { native } from '../native/addon.js';
import { TreeRewardError } from '../native/errors.js';
import type { Device } from './dtype.js';
import { checkDevice, checkInt } from './validate.js';

export interface MemoryStats {
  /** Bytes held by live native tensors (also reported to V8 as external memory for the cpu). */
  liveBytes: number;
  /** The high-water mark of liveBytes since the last resetPeakMemory(). */
  peakBytes: number;
  liveBuffers: number;
  /** cuda only: bytes of the caching allocator's blocks that live tensors hold (sizes rounded up to its buckets). */
  allocatedBytes?: number;
  /**
   * Bytes of freed blocks the caching allocator keeps for reuse (not in liveBytes, not reported to V8).
   * On the cpu only blocks of 128 KiB or more are cached, up to cacheCapBytes (TREEREWARD_CPU_CACHE_MB;
   * TREEREWARD_CPU_CACHE=0 turns the cache off).
   */
  cachedBytes?: number;
  /** cpu only: the most bytes the cache keeps. */
  cacheCapBytes?: number;
  /** cuda only: allocatedBytes + cachedBytes, what the allocator holds from the driver. */
  reservedBytes?: number;
  /** cuda only: the most reservedBytes at once since the last resetPeakMemory('cuda'): what a run needs of the GPU (less the CUDA context and cuBLAS/cuDNN workspaces). */
  peakReservedBytes?: number;
  /** Allocations the cache could not serve (cudaMalloc calls; on the cpu, C library calls for blocks of 128 KiB or more): flat over a training loop once the cache is warm. */
  mallocs?: number;
  /** Allocations served from the cache. */
  cacheHits?: number;
}

/** Native memory of a device. Defaults to "cpu". */
export function memoryStats(device: Device = 'cpu'): MemoryStats {
  return native().memoryStats(checkDevice(device));
}
/** V8's total of externally allocated memory, which includes every native tensor byte (it drives V8's GC pressure). */
export function v8ExternalMemory(): number {
  return native().v8ExternalMemory();
}
/** Gives the caching allocator's freed blocks back to the system (cpu) or the driver (cuda). Defaults to "cpu". */
export function emptyCache(device: Device = 'cpu'): void {
  native().emptyCache(checkDevice(device));
}
/** Resets the peak of memoryStats(device). Defaults to "cpu". */
export function resetPeakMemory(device: Device = 'cpu'): void {
  native().resetPeakMemory(checkDevice(device));
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

/** Throws CUDA_UNAVAILABLE naming `what` (e.g. 'config.device "cuda"') unless a GPU is usable; for runs that would start on cuda. */
export function requireCuda(what: string): void {
  if (!hasCuda()) throw new TreeRewardError('CUDA_UNAVAILABLE', `Expected a visible CUDA GPU for ${what} but found none (hasCuda() is false: no GPU, or a build without CUDA)`);
}
/**
 * cudaGemm ("cublas" or "tiled") is there in builds with CUDA. threading: "openmp" when parallel_for runs
 * on GNU OpenMP, the runtime oneDNN's threads use (the build's default where the compiler has it),
 * "pool" for the addon's own pool. bf16: the cpu has native bf16 products (AVX512-BF16 through oneDNN), which
 * bf16 tensors and `autocast('bfloat16', ...)` use; without them bf16 computes in float32 and autocast does nothing.
 */
export function buildInfo(): { blas: boolean; cudaCompiled: boolean; cudaDevice: string; threads: number; threading: 'openmp' | 'pool'; bf16: boolean; cudaGemm?: string } {
  return native().buildInfo();
}
