// Breaking-change report of spec/piapi-kling.yaml against an older copy.
// Usage: node spec-diff.cjs OLD.yaml NEW.yaml  (NODE_PATH must hold api-smart-diff and js-yaml)
const fs = require("fs");
const yaml = require("js-yaml");
const { apiDiff } = require("api-smart-diff");

const [oldPath, newPath] = process.argv.slice(2);
const before = yaml.load(fs.readFileSync(oldPath, "utf8"));
const after = yaml.load(fs.readFileSync(newPath, "utf8"));
const diffs = apiDiff(before, after);
const counts = {};
for (const d of diffs) counts[d.type] = (counts[d.type] || 0) + 1;
const breaking = diffs.filter((d) => d.type === "breaking");
for (const d of breaking) {
  console.log(`BREAKING ${d.action} ${(d.path || []).join(".")}: ${d.description || ""}`);
}
console.log(`spec diff: ${diffs.length} changes ${JSON.stringify(counts)}`);
