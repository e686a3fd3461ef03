// treereward: the package's public surface.
export * from './api/index.js';
export { TreeRewardError, type ErrorCode } from './native/errors.js';
export { readSafetensors, writeSafetensors, parseSafetensors, entryToTensor, type SafetensorsFile, type SafetensorsEntry } from './io/safetensors.js';
export { UNet, type UNetCallOptions } from './models/unet.js';
export { AutoencoderKL, type VaeCallOptions } from './models/vae.js';
export { DIFFUSION_PRESETS, UNetConfigSchema, VaeConfigSchema, parseUNetConfig, parseVaeConfig, unetHeads, type UNetConfig, type VaeConfig, type VaeConfigInput, type DiffusionPreset, type DiffusionPresetName } from './models/configs.js';
