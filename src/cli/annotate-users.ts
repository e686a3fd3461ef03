// annotate-users.ts: `treereward annotate add-user NAME [--admin] [--new-token] --store DIR [--json]` and
// `treereward annotate users --store DIR [--json]`.
import type { Command } from 'commander';
import { addUser, listUsers } from '../annotate/users.js';
import { openExistingStore } from './data-options.js';
import { annotateCommand } from './annotate.js';

export function register(program: Command): void {
  const annotate = annotateCommand(program);
  annotate
    .command('add-user <name>')
    .description('make an annotator and print its token (shown once; only a hash is stored)')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .option('--admin', 'the token may also export labels and manage A/B sets')
    .option('--new-token', 'the user exists: give it a new token (the old one stops working)')
    .option('--json', 'print one JSON document')
    .action((name: string, opts: { store?: string; admin?: boolean; newToken?: boolean; json?: boolean }) => {
      const store = openExistingStore(opts.store);
      try {
        const { user, token } = addUser(store.db, name, { admin: opts.admin ?? false, replaceToken: opts.newToken ?? false });
        if (opts.json) {
          console.log(JSON.stringify({ name: user.name, admin: user.admin, token }, null, 2));
        } else {
          console.log(`${opts.newToken ? 'new token for' : 'added'} ${user.admin ? 'admin' : 'annotator'} ${user.name}; token (shown only now):`);
          console.log(token);
        }
      } finally {
        store.close();
      }
    });

  annotate
    .command('users')
    .description('list the annotators (names and roles; tokens are not stored)')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .option('--json', 'print one JSON document')
    .action((opts: { store?: string; json?: boolean }) => {
      const store = openExistingStore(opts.store);
      try {
        const users = listUsers(store.db);
        if (opts.json) console.log(JSON.stringify(users, null, 2));
        else console.log(users.length ? users.map((u) => `${u.name}${u.admin ? ' (admin)' : ''}`).join('\n') : 'no annotators yet: treereward annotate add-user NAME --store DIR');
      } finally {
        store.close();
      }
    });
}
