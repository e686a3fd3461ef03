// index.ts: name tables between checkpoint layouts and our models' names.
export { NameTable, requireAllKnown, type NameRule, type InnerRule, type Direction, type Renamed, type Reshapable } from './rules.js';
export {
  unetTable, vaeTable, textEncoderTable, unetLdmToDiffusers, unetDiffusersToLdm, vaeLdmToDiffusers, vaeDiffusersToLdm,
  textEncoderLdmToDiffusers, textEncoderDiffusersToLdm, ldmToDiffusers, diffusersToLdm, inferLdmUNetLayout, LDM_PREFIXES,
  type UNetLayout, type VaeLayout, type SdLayout, type SdComponents,
} from './stable-diffusion.js';
export {
  IMAGEREWARD_TABLE, BLIP_TABLE, HF_BLIP_TABLE, LAION_AESTHETIC_TABLE, imageRewardToNative, blipToNative, hfBlipToBlip, aestheticToNative,
} from './blip.js';
