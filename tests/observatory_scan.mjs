// Score paths of a site with the MDN HTTP Observatory's own code (npm @mdn/mdn-http-observatory).
//
// Its CLI scans only `/`; this runs the same steps as its scanner (src/scanner/index.js) with
// the retriever's `path` option, so any URL gets the grade the Observatory would give it.
// Usage: node observatory_scan.mjs <package dir> <hostname> <path>...   -> JSON lines on stdout
import path from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, hostname, ...paths] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(path.join(packageDir, "src", file)).href);
const { retrieve } = await load("retriever/retriever.js");
const { ALL_TESTS } = await load("constants.js");
const { getGradeForScore, getScoreModifier } = await load("grader/grader.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await load("grader/charts.js");

for (const scanPath of paths) {
  const r = await retrieve(hostname, { path: scanPath });
  if (!r.responses.auto) {
    console.log(JSON.stringify({ path: scanPath, error: "no response" }));
    continue;
  }
  // The scanner's arithmetic: bonuses count only if the score after penalties earns an A.
  let withExtraCredit = 100;
  let uncurved = 100;
  const tests = {};
  for (const test of ALL_TESTS) {
    const result = test(r);
    const modifier = result.result ? getScoreModifier(result.result) : 0;
    withExtraCredit += modifier;
    if (modifier < 0) uncurved += modifier;
    tests[result.constructor.name] = { result: result.result, modifier, pass: result.pass };
  }
  const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtraCredit : uncurved;
  const final = getGradeForScore(score);
  console.log(JSON.stringify({
    path: scanPath,
    status: r.responses.auto.status,
    url: r.responses.auto.request?.url ?? r.session?.url?.href,
    verified: r.responses.auto.verified,
    score: final.score,
    grade: final.grade,
    tests,
  }));
}
