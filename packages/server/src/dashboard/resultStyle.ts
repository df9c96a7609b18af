/** The style of the researcher's views: the line charts, the metrics table's folded values, the leaderboard and the comparison. */
export const resultStyleSheet = `
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 12px 20px; }
svg.chart { max-width: 640px; font-size: 11px; }
svg.chart .chart-title { fill: var(--fg); font-size: 12.5px; font-weight: 650; }
svg.chart .legend-item text { fill: var(--fg); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .zero { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 3 3; }
svg.chart .axis-title { fill: var(--muted); font-size: 11.5px; }
svg.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg.chart .area { stroke: none; opacity: .18; }
svg.chart .t-c0 { stroke: #2f6fdf; fill: #2f6fdf; }
svg.chart .t-c1 { stroke: #d9622b; fill: #d9622b; }
svg.chart .t-c2 { stroke: #1f8a4c; fill: #1f8a4c; }
svg.chart .t-c3 { stroke: #8a3fd1; fill: #8a3fd1; }
svg.chart .t-c4 { stroke: #b7791f; fill: #b7791f; }
svg.chart .t-c5 { stroke: #1b9aaa; fill: #1b9aaa; }
svg.chart .t-hold { stroke: #7a8090; fill: #7a8090; stroke-dasharray: 5 4; }
svg.chart .t-loss { stroke: var(--bad); fill: var(--bad); }
svg.chart path.series { fill: none; }
table.metrics { table-layout: fixed; }
table.metrics col.kind { width: 92px; }
table.metrics col.name { width: 38%; }
table.metrics td { white-space: normal; overflow-wrap: anywhere; }
table.metrics td.value .mono { white-space: nowrap; }
details > summary { cursor: pointer; color: var(--accent); overflow-wrap: anywhere; }
details pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 320px; overflow: auto; margin: 6px 0 0; padding: 6px 8px; background: var(--bg); border-radius: 4px; font-size: 12px; }
table.nested { width: auto; margin-top: 4px; }
table.nested td { padding: 2px 8px; border-bottom: 1px dotted var(--line); }
th a.sort { color: inherit; }
th a.sort[aria-sort] { color: var(--fg); }
table.compare td, table.compare th { white-space: normal; overflow-wrap: anywhere; }
.swatch { display: inline-block; width: 14px; height: 3px; margin-right: 6px; vertical-align: middle; }
.swatch.t-c0 { background: #2f6fdf; } .swatch.t-c1 { background: #d9622b; } .swatch.t-c2 { background: #1f8a4c; }
.swatch.t-c3 { background: #8a3fd1; } .swatch.t-c4 { background: #b7791f; } .swatch.t-c5 { background: #1b9aaa; }
label.pick { display: inline-flex; gap: 4px; align-items: center; }
section.flush { padding: 4px 6px; }
table.leaderboard td.wrap { white-space: normal; min-width: 90px; }
table.leaderboard th, table.leaderboard td { padding: 6px 6px; }
table.compare thead th { text-transform: none; }
table.compare tbody th { text-transform: none; font-size: 13px; color: var(--fg); }
.downloads { margin: 8px 0 0; font-size: 13px; }
`
