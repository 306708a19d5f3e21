/** The one-word state, in its colour (contracts' STATE_TONES), with the reason as the CLI prints it. */
import { STATE_TONES, type EnvironmentStateWord } from '@wharf/contracts/browser';

export function StateBadge(props: { word: EnvironmentStateWord; text: string; message?: string }) {
  const tone = STATE_TONES[props.word]?.tone ?? 'waiting';
  return (
    <span class={`state tone-${tone}`} data-state={props.word} title={props.message || undefined}>
      <span class="dot" aria-hidden="true" />
      {props.text}
    </span>
  );
}
