// stop-signals.ts: how a long command (demo, data build, pretrain, ReFL, eval, sample) is stopped and
// resumed. Ctrl-C (SIGINT) or SIGTERM asks it to stop after the current step, with its checkpoints
// written, so the same command resumes; a second signal exits at once (130 / 143). SIGTERM too: it is
// what `kill` sends, and a job a script starts in the background can inherit SIGINT as ignored (seen
// here: `(setsid nohup bash -c 'treereward demo --full ...' &)` did not react to SIGINT at all).

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Registers the handlers; `stop` runs on the first signal. Returns the function that removes them. */
export function onStopSignals(stop: () => void): () => void {
  const forced: Partial<Record<NodeJS.Signals, () => void>> = {};
  const first = () => {
    for (const s of SIGNALS) process.off(s, first);
    for (const s of SIGNALS) {
      forced[s] = () => process.exit(s === 'SIGINT' ? 130 : 143);
      process.once(s, forced[s]!);
    }
    stop();
  };
  for (const s of SIGNALS) process.once(s, first);
  return () => {
    for (const s of SIGNALS) {
      process.off(s, first);
      if (forced[s]) process.off(s, forced[s]!);
    }
  };
}
