// What this machine charges for code that runs right after a timer woke the process, apart from
// `npm run bench` (docs/benchmarks.md, "The event-loop p95"): the same trivial operation — three
// array pushes — timed first thing after each wake-up and again at once, 300 times per sleep length.
// The first is what a subscriber on the bot's call pays when it is the first code of its turn.
//
//   node bench/wake-penalty.mjs
const arrays = [[], [], []];
let n = 0;
function op() {
  arrays[0].push(n);
  arrays[1].push(n * 0.5);
  arrays[2].push(arrays);
  if (arrays[0].length > 1_000) for (const a of arrays) a.length = 0;
}

const quantile = (values, q) => values.sort((a, b) => a - b)[Math.floor(q * (values.length - 1))].toFixed(2);

async function measure(sleepMs, rounds = 300, warmup = 20) {
  const first = [];
  const again = [];
  for (let i = 0; i < rounds + warmup; i++) {
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    let t = performance.now();
    op();
    const a = performance.now() - t;
    t = performance.now();
    op();
    const b = performance.now() - t;
    n++;
    if (i >= warmup) {
      first.push(a * 1000);
      again.push(b * 1000);
    }
  }
  console.log(
    `after ${String(sleepMs).padStart(3)} ms asleep: first op ${quantile(first, 0.5)} µs (p90 ${quantile(first, 0.9)}), ` +
      `the same op at once ${quantile(again, 0.5)} µs (p90 ${quantile(again, 0.9)})`,
  );
}

for (const sleepMs of [200, 20, 2]) await measure(sleepMs);
