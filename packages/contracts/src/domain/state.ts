/**
 * The one word for an environment's state, from its conditions, in the order a user cares about. `wharf up`'s live
 * table, `wharf status` and the API all say it the same way: `Ready`, `Progressing`, `Stalled (InvalidVersion)`.
 */
import { type Condition, type Reason } from '../conditions.js';

export const ENVIRONMENT_STATES = ['Ready', 'Progressing', 'Degraded', 'Stalled', 'Suspended', 'Deleting', 'Pending'] as const;
export type EnvironmentStateWord = (typeof ENVIRONMENT_STATES)[number];

export interface EnvironmentState {
  state: EnvironmentStateWord;
  /** The reason of the condition that decided the state; null for Ready, Suspended and Deleting. */
  reason: Reason | null;
  /** Why, for people; empty when there is nothing to add. */
  message: string;
}

export function environmentState(input: {
  conditions: readonly Condition[];
  suspended?: boolean;
  deletionRequested?: boolean;
}): EnvironmentState {
  if (input.deletionRequested) return { state: 'Deleting', reason: null, message: '' };
  if (input.suspended) return { state: 'Suspended', reason: null, message: '' };
  const isTrue = (type: Condition['type']) => input.conditions.find((c) => c.type === type && c.status === 'True');
  for (const type of ['Stalled', 'Degraded', 'Progressing'] as const) {
    const c = isTrue(type);
    if (c) return { state: type, reason: c.reason, message: c.message };
  }
  if (isTrue('Ready')) return { state: 'Ready', reason: null, message: '' };
  const ready = input.conditions.find((c) => c.type === 'Ready');
  return { state: 'Pending', reason: ready?.reason ?? null, message: ready?.message ?? '' };
}

/** `Ready`, `Stalled (InvalidVersion)`, `Degraded (ApplyFailed)`; a reason that repeats the state is left out. */
export const formatState = (s: EnvironmentState): string =>
  s.reason && s.reason !== s.state ? `${s.state} (${s.reason})` : s.state;

/** How a state is shown: the same tone in the terminal and in the dashboard. */
export const STATE_TONE_NAMES = ['ok', 'progress', 'warning', 'error', 'paused', 'waiting'] as const;
export type StateToneName = (typeof STATE_TONE_NAMES)[number];

export interface StateTone {
  tone: StateToneName;
  /** ANSI SGR foreground colour for terminals (32 green, 34 blue, 33 yellow, 31 red, 90 grey, 36 cyan). */
  ansi: number;
  /** Text colours with at least 4.5:1 contrast on a white and on a near-black (#0d1117) background. */
  light: string;
  dark: string;
}

/** Each state's colour, defined once: `wharf` in a terminal and the dashboard draw the same word in the same colour. */
export const STATE_TONES = {
  Ready: { tone: 'ok', ansi: 32, light: '#116329', dark: '#3fb950' },
  Progressing: { tone: 'progress', ansi: 34, light: '#0550ae', dark: '#58a6ff' },
  Degraded: { tone: 'warning', ansi: 33, light: '#7d4e00', dark: '#d29922' },
  Stalled: { tone: 'error', ansi: 31, light: '#b42318', dark: '#ff7b72' },
  Suspended: { tone: 'paused', ansi: 90, light: '#57606a', dark: '#8b949e' },
  Deleting: { tone: 'paused', ansi: 90, light: '#57606a', dark: '#8b949e' },
  Pending: { tone: 'waiting', ansi: 36, light: '#0e6b73', dark: '#39c5cf' },
} as const satisfies Record<EnvironmentStateWord, StateTone>;

/** `text` in its state's terminal colour (when `color` is on: a TTY without NO_COLOR). */
export const colorState = (word: EnvironmentStateWord, text: string, color: boolean): string =>
  color ? `\u001b[${STATE_TONES[word].ansi}m${text}\u001b[39m` : text;
