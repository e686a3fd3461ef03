// main.ts: `treereward <command>`: each command file registers itself on the program.
import { Command } from 'commander';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('treereward').description('Tree-structured feedback learning for text-to-image diffusion models').showHelpAfterError();
  const modules = await Promise.all([
    import('./example.js'),
    // each command module: import('./<command>.js'),
    import('./data-import.js'),
    import('./data-export.js'),
    import('./data-stats.js'),
    import('./data-show.js'),
    import('./data-build.js'),
    import('./annotate.js'),
    import('./annotate-users.js'),
    import('./annotate-ab.js'),
    import('./annotate-labels.js'),
    import('./convert.js'),
    import('./sample.js'),
    import('./refl.js'),
    import('./pretrain.js'),
    import('./pretrain-generator.js'),
    import('./generator-checks.js'),
    import('./reward.js'),
    import('./eval.js'),
    import('./report.js'),
    import('./status.js'),
    import('./demo.js'),
  ]);
  for (const m of modules) m.register(program);
  await program.parseAsync(argv);
}
