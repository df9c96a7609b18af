/** The dashboard's style sheet: system fonts, one table style, status colours, the two charts. */
export const styleSheet = `
:root {
  --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --bg: #f6f7f9; --card: #fff; --accent: #2f6fdf;
  --ok: #1f8a4c; --ok-bg: #e3f4ea; --run: #2f6fdf; --run-bg: #e4edfc; --wait: #b7791f; --wait-bg: #fbf0dc;
  --bad: #c8372d; --bad-bg: #fbe5e3; --off: #7a8090; --off-bg: #eceef2;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header { display: flex; align-items: center; gap: 20px; padding: 10px 24px; background: #1d2330; color: #fff; }
header .brand { color: #fff; font-weight: 700; font-size: 16px; letter-spacing: .3px; }
header nav { display: flex; gap: 4px; flex: 1; }
header nav a { color: #c9cfdb; padding: 4px 10px; border-radius: 4px; }
header nav a[aria-current="page"] { background: #39445a; color: #fff; }
header button { background: transparent; color: #c9cfdb; border: 1px solid #4a556b; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 20px; margin: 0 0 16px; }
h2 { font-size: 15px; margin: 0 0 10px; display: flex; align-items: baseline; gap: 8px; }
h2 .count { color: var(--muted); font-weight: 400; }
h2 .more { margin-left: auto; font-size: 13px; font-weight: 400; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; overflow-x: auto; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; align-items: start; }
.grid2 > section { margin-bottom: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 16px; margin-bottom: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card-title { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .5px; }
.card-value { font-size: 26px; font-weight: 650; margin: 2px 0; }
.card-value small { font-size: 15px; color: var(--muted); font-weight: 400; }
.card-detail { color: var(--muted); font-size: 12.5px; display: flex; align-items: center; gap: 6px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .4px; }
tbody tr:hover { background: #fafbfc; }
tfoot td { color: var(--muted); border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.brief { white-space: normal; max-width: 360px; color: var(--muted); }
td.empty { color: var(--muted); text-align: center; padding: 16px; }
tr.error-row td { background: var(--bad-bg); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.small { font-size: 12px; }
.muted { color: var(--muted); }
.simulated { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--off-bg); color: var(--off); }
.s-completed, .s-available, .v-promising { background: var(--ok-bg); color: var(--ok); }
.s-running, .s-busy { background: var(--run-bg); color: var(--run); }
.s-pending, .s-draining, .v-inconclusive { background: var(--wait-bg); color: var(--wait); }
.s-failed, .s-lost, .s-refused, .s-error, .v-rejected { background: var(--bad-bg); color: var(--bad); }
.s-cancelled, .s-offline { background: var(--off-bg); color: var(--off); }
.bar { display: inline-block; width: 70px; height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: var(--accent); }
.wait { color: var(--wait); }
.chips { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 8px; }
.chip { background: var(--bg); border: 1px solid var(--line); border-radius: 12px; padding: 1px 10px; font-size: 12.5px; }
.live { font-size: 12px; padding: 2px 10px; border-radius: 10px; background: #39445a; color: #c9cfdb; }
.live.on { background: #1f8a4c; color: #fff; }
.live.on::before { content: "● "; }
.live.retry { background: #b7791f; color: #fff; }
.notice { margin: 0 0 16px; padding: 8px 12px; border-radius: 6px; background: var(--run-bg); }
.notice.ok { background: var(--ok-bg); }
.notice.error { background: var(--bad-bg); color: var(--bad); }
.error { color: var(--bad); }
button { font: inherit; padding: 5px 14px; border-radius: 5px; border: 1px solid var(--line); background: var(--card); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
button:disabled { opacity: .6; cursor: default; }
form.filter, form.trigger, form.token { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 16px; }
form.filter label, form.token label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
form.trigger { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
form.trigger label { width: 100%; font-weight: 600; font-size: 13px; }
form.trigger textarea { flex: 1; min-width: 300px; font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 5px; }
form.token { background: var(--wait-bg); border-radius: 8px; padding: 12px 16px; }
form.token .why { width: 100%; margin: 0; }
input, select { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 5px; background: #fff; }
.totals { color: var(--muted); }
.totals b { color: var(--fg); }
.pager { display: flex; gap: 16px; margin-top: 10px; }
.research-head { display: flex; align-items: center; gap: 16px; }
.research-head h1 { margin: 0; display: flex; gap: 10px; align-items: center; }
.research-head h1 .mono { font-size: 18px; }
section form.trigger { border: 0; padding: 0; margin: 0; }
.research-head .actions { margin-left: auto; display: flex; gap: 8px; align-items: center; }
.brief-full { font-size: 15px; margin: 8px 0 12px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 8px 16px; margin: 0 0 16px; }
.facts dt { font-size: 12px; color: var(--muted); }
.facts dd { margin: 0; }
svg { display: block; width: 100%; height: auto; font-size: 11px; fill: var(--muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg.burn { max-width: 760px; }
svg.burn .area { fill: var(--run-bg); stroke: none; }
svg.burn .line { fill: none; stroke: var(--run); stroke-width: 2; }
svg.burn .limit { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.burn .limit-label { fill: var(--bad); }
svg.burn .now { stroke: var(--muted); stroke-dasharray: 2 3; }
svg.burn .dot { fill: var(--run); }
svg.waterfall { max-width: 1200px; }
svg.waterfall text { fill: var(--fg); font-size: 12px; }
svg.waterfall .phase-label { font-weight: 650; }
svg.waterfall .phase-span { fill: #c9cfdb; }
svg.waterfall rect.wait { fill: var(--wait-bg); stroke: var(--wait); stroke-dasharray: 3 2; }
svg.waterfall rect.run { fill: var(--off); }
svg.waterfall rect.run.s-completed { fill: var(--ok); }
svg.waterfall rect.run.s-running, svg.waterfall rect.run.s-pending { fill: var(--run); }
svg.waterfall rect.run.s-failed, svg.waterfall rect.run.s-lost, svg.waterfall rect.run.s-refused { fill: var(--bad); }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: middle; border-radius: 2px; }
.legend .lg-wait { background: var(--wait-bg); border: 1px dashed var(--wait); }
.legend .lg-run.s-completed { background: var(--ok); }
.legend .lg-run.s-running { background: var(--run); }
.legend .lg-run.s-failed { background: var(--bad); }
.legend .lg-run.s-cancelled { background: var(--off); }
.budget-summary { margin: 0 0 8px; }
[hidden] { display: none !important; }
`
