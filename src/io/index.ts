// index.ts: weights in and out: safetensors, PyTorch checkpoints, conversion, name tables.
export {
  SafetensorsReader, openSafetensors, readSafetensors, writeSafetensors, writeSafetensorsStreaming, parseSafetensors, entryToTensor, MAX_HEADER,
  type ReadOptions, type SafetensorsFile, type SafetensorsEntry, type SafetensorsHeader, type RawEntry, type PlannedEntry, type WriteDType, type WriteOptions,
} from './safetensors.js';
export { STORED_DTYPE_BITS, type StoredDType, type FloatTarget } from './dtypes.js';
export { TorchCheckpoint, openTorchCheckpoint, readTorchCheckpoint, type CheckpointOptions, type CheckpointReadOptions } from './torch/checkpoint.js';
export { TensorRef, StorageRef } from './torch/records.js';
export { convertToSafetensors, CONVERT_DTYPES, type ConvertDType, type ConvertOptions, type ConvertReport } from './convert.js';
export * from './names/index.js';
