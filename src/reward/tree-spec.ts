// tree-spec.ts: the reward tree declared as data: a root, internal nodes (branches) and their
// leaves, each leaf bound to a dimension of the feedback store. Validated with zod plus the
// structural rules (a leaf under one branch only, no empty branch, known dimensions).
import { z } from 'zod';

import { TreeRewardError } from '../native/errors.js';

export const treeSpecSchema = z
  .object({
    /** Internal nodes in order, each with its leaves in order: { semantic: ['content', 'style'], ... }. */
    branches: z.record(z.string().min(1), z.array(z.string().min(1))),
    /** Hidden width of each internal node's 2-layer MLP (one logit). Defaults to 128. */
    nodeHidden: z.number().int().positive().default(128),
    /** Hidden widths of each leaf's 4-layer MLP (one reward). Defaults to [128, 64, 16]. */
    leafHidden: z.array(z.number().int().positive()).length(3).default([128, 64, 16]),
    /** Activation between head layers: 'gelu', or 'none' as the released ImageReward head. Defaults to 'gelu'. */
    act: z.enum(['gelu', 'none']).default('gelu'),
    /** Temperature of the leaf softmax in the aggregation (eq. 8). Defaults to 1. */
    tau: z.number().positive().default(1),
    /** 'paper': w_k = softmax(r_k / tau) (eq. 8, favours the best leaves); 'inverse': softmax(-r_k / tau). Defaults to 'paper'. */
    weighting: z.enum(['paper', 'inverse']).default('paper'),
  })
  .strict();

export type TreeSpecInput = z.input<typeof treeSpecSchema>;
export type TreeSpec = z.output<typeof treeSpecSchema>;

/** The paper's tree: semantic (content, style) and aesthetic (color, lighting, layout, detail). */
export const DEFAULT_TREE: TreeSpecInput = {
  branches: { semantic: ['content', 'style'], aesthetic: ['color', 'lighting', 'layout', 'detail'] },
};

export interface ResolvedTree {
  spec: TreeSpec;
  branches: string[];
  /** Leaves in tree order (branch by branch). */
  leaves: string[];
  /** Branch index of each leaf. */
  branchOfLeaf: number[];
  /** [start, end) of each branch's leaves in `leaves`. */
  spans: [number, number][];
  leafIndex: Map<string, number>;
}

/**
 * Validates a tree declaration. `dimensions`, when given, are the dimensions the data has: every
 * leaf must be one of them.
 */
export function resolveTree(input: unknown, dimensions?: readonly string[]): ResolvedTree {
  const parsed = treeSpecSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected a valid tree for ${['tree', ...issue.path].join('.')} but ${issue.message}`);
  }
  const spec = parsed.data;
  const branches = Object.keys(spec.branches);
  if (branches.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected at least one branch for tree.branches but received none');
  const leaves: string[] = [];
  const branchOfLeaf: number[] = [];
  const spans: [number, number][] = [];
  const owner = new Map<string, string>();
  branches.forEach((b, bi) => {
    const ls = spec.branches[b];
    if (ls.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', `Expected at least one leaf for tree.branches.${b} but received an empty branch`);
    const start = leaves.length;
    for (const leaf of ls) {
      const prev = owner.get(leaf);
      if (prev !== undefined) {
        throw new TreeRewardError('INVALID_ARGUMENT', `Expected each leaf under one branch but "${leaf}" is under both ${prev} and ${b}`);
      }
      if (dimensions && !dimensions.includes(leaf)) {
        throw new TreeRewardError('INVALID_ARGUMENT', `Expected a dimension of the data (${dimensions.join(', ')}) for leaf "${leaf}" of ${b} but the data has no such dimension`);
      }
      owner.set(leaf, b);
      leaves.push(leaf);
      branchOfLeaf.push(bi);
    }
    spans.push([start, leaves.length]);
  });
  return { spec, branches, leaves, branchOfLeaf, spans, leafIndex: new Map(leaves.map((l, i) => [l, i])) };
}
