// dtype.ts: element types and devices as the API names them.
import { z } from 'zod';

export const DTYPES = ['float32', 'float64', 'bfloat16', 'float16', 'int32'] as const;
export type DType = (typeof DTYPES)[number];
export const dtypeSchema = z.enum(DTYPES);

export const DEVICES = ['cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];
export const deviceSchema = z.enum(DEVICES);

export const MAX_RANK = 6;

export function isFloat(d: DType): boolean {
  return d !== 'int32';
}
