// treereward: the package's public surface.
export * from './api/index.js';
export { TreeRewardError, type ErrorCode } from './native/errors.js';
export { readSafetensors, writeSafetensors, parseSafetensors, entryToTensor, type SafetensorsFile, type SafetensorsEntry } from './io/safetensors.js';
export { UNet, type UNetCallOptions } from './models/unet.js';
export { AutoencoderKL, type VaeCallOptions } from './models/vae.js';
export { DIFFUSION_PRESETS, UNetConfigSchema, VaeConfigSchema, parseUNetConfig, parseVaeConfig, unetHeads, type UNetConfig, type VaeConfig, type VaeConfigInput, type DiffusionPreset, type DiffusionPresetName } from './models/configs.js';
export { BlipBackbone, type EncoderCallOptions, type PrefixedLoadOptions } from './models/blip.js';
export { BLIP_PRESETS, BlipConfigSchema, parseBlipConfig, blipImageTokens, type BlipConfig, type BlipConfigInput, type BlipPresetName } from './models/blip-configs.js';
export { ImageRewardScorer, IMAGEREWARD_MEAN, IMAGEREWARD_STD, IMAGEREWARD_HEAD_DIMS, type ImageRewardLoadReport, type ImageRewardOptions } from './models/imagereward.js';
export { ClipTextEncoder, ClipVisionEncoder, ClipModel, type ClipTextOutput, type ClipVisionOutput, type ClipLoadReport } from './models/clip.js';
export { CLIP_TEXT_PRESETS, CLIP_VISION_PRESETS, CLIP_PRESETS, ClipTextConfigSchema, ClipVisionConfigSchema, parseClipTextConfig, parseClipVisionConfig, parseClipConfig, type ClipTextConfig, type ClipTextConfigInput, type ClipVisionConfig, type ClipVisionConfigInput, type ClipConfigInput, type ClipTextPresetName, type ClipVisionPresetName, type ClipPresetName } from './models/clip-configs.js';
export { CLIP_MEAN, CLIP_STD, normalizeImage } from './models/image-normalize.js';
export { withoutPrefix, withPrefix, type Weights } from './models/weights.js';
export { SafetensorsReader, openSafetensors, writeSafetensorsStreaming, MAX_HEADER, type ReadOptions, type RawEntry, type PlannedEntry, type WriteDType, type WriteOptions, type SafetensorsHeader } from './io/safetensors.js';
export { TorchCheckpoint, openTorchCheckpoint, readTorchCheckpoint, TensorRef, StorageRef, convertToSafetensors, CONVERT_DTYPES, type CheckpointOptions, type CheckpointReadOptions, type ConvertDType, type ConvertOptions, type ConvertReport, type StoredDType, type FloatTarget } from './io/index.js';
export { NameTable, requireAllKnown, ldmToDiffusers, diffusersToLdm, unetLdmToDiffusers, unetDiffusersToLdm, vaeLdmToDiffusers, vaeDiffusersToLdm, textEncoderLdmToDiffusers, textEncoderDiffusersToLdm, inferLdmUNetLayout, unetTable, vaeTable, textEncoderTable, LDM_PREFIXES, imageRewardToNative, blipToNative, hfBlipToBlip, aestheticToNative, IMAGEREWARD_TABLE, BLIP_TABLE, HF_BLIP_TABLE, LAION_AESTHETIC_TABLE, type NameRule, type InnerRule, type Renamed, type Reshapable, type UNetLayout, type VaeLayout, type SdLayout, type SdComponents } from './io/names/index.js';
export { type Tokenizer, type EncodeOptions, type EncodedBatch, type DecodeOptions, LibraryTokenizer, clipTokenizer, clipTokenizerFromFiles, clipTokenizerJson, bertTokenizer, bertTokenizerFromFile, bertTokenizerJson, WordTokenizer, wordsOf, splitWords, loadTokenizer, batchToTensors, CLIP_BOS, CLIP_EOS, CLIP_MAX_LENGTH, type ClipTokenizerOptions, type BertTokenizerOptions, type WordTokenizerOptions } from './tokenizers/index.js';
export * from './diffusion/index.js';
