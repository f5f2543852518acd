/**
 * The head registry: `--model` / `memorization.model` names to kinds. A new head is one file with a HeadKind and one
 * line here.
 */
import type { HeadKind } from './headKind';
import { linearHeadKind } from './linearHead';
import { mlpHeadKind } from './mlpHead';

export const HEADS = {
  linear: linearHeadKind,
  mlp: mlpHeadKind,
} as const satisfies Record<string, HeadKind>;

export type HeadName = keyof typeof HEADS;
export const HEAD_NAMES = Object.keys(HEADS) as HeadName[];
