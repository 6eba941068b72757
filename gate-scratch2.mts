import { runBacktest } from './src/backtest/run.ts';
import { loadConfigFile } from './src/config/load.ts';

const c = loadConfigFile('/tmp/runtest/bt-sf.yaml', {});
const a = await runBacktest(c, { quoteGating: true });
const b = await runBacktest(c, { quoteGating: false });
for (let i = 0; i < Math.max(a.transitions.length, b.transitions.length); i++) {
  const x = a.transitions[i]!,
    y = b.transitions[i]!;
  if (!x || !y || x.at !== y.at || x.to !== y.to) {
    console.log(
      i,
      JSON.stringify(a.transitions.slice(i - 2, i + 2)),
      '\n',
      JSON.stringify(b.transitions.slice(i - 2, i + 2)),
    );
    break;
  }
}
const ta = a.trades,
  tb = b.trades;
for (let i = 0; i < ta.length; i++)
  if (JSON.stringify(ta[i]) !== JSON.stringify(tb[i])) {
    console.log('trade', i, JSON.stringify(ta[i]), JSON.stringify(tb[i]));
    break;
  }
