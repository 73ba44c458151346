/**
 * Statistiques: loaded on first display of the tab. Only the Chart.js parts used are registered,
 * so the bundler drops the rest. Each chart also carries its numbers as text (aria-label, a value
 * at the end of each bar and a data table) for screen readers and colour-blind readers. Bars
 * keep their places (fixed order) so a live update never reshuffles what someone is reading.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  LinearScale,
  type Plugin,
  Tooltip,
} from "chart.js";
import {
  eventsPerHour,
  type StatusTally,
  sortedByLabel,
  type Tally,
  tallyBy,
  tallyByStatus,
} from "../core/stats.ts";
import type { Intervention, LiveEvent } from "../core/types.ts";
import { h, replaceChildren } from "../ui/dom.ts";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface StatsView {
  update(records: readonly Intervention[], events: readonly LiveEvent[]): void;
}

interface Panel {
  chart: Chart<"bar", number[], string>;
  canvas: HTMLCanvasElement;
  box: HTMLElement;
  table: HTMLTableElement;
  title: string;
  horizontal: boolean;
}

/** Height per bar of a horizontal chart, so every label fits and none is skipped. */
const BAR_SLOT_PX = 30;
const MIN_CHART_PX = 160;

/** Writes each bar's value at its end: the number is read, not estimated from a grid. */
const valueLabels: Plugin<"bar"> = {
  id: "valueLabels",
  afterDatasetsDraw(chart) {
    const horizontal = chart.options.indexAxis === "y";
    const values = chart.data.datasets[0]?.data ?? [];
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = cssColor("--fg", "#1b2430");
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textAlign = horizontal ? "left" : "center";
    ctx.textBaseline = horizontal ? "middle" : "bottom";
    chart.getDatasetMeta(0).data.forEach((bar, index) => {
      const value = Number(values[index] ?? 0);
      // Empty hours would fill the hourly chart with zeros; an empty status still says 0.
      if (value === 0 && !horizontal) return;
      const { x, y } = bar.getProps(["x", "y"], true);
      ctx.fillText(String(value), horizontal ? x + 4 : x, horizontal ? y : y - 2);
    });
    ctx.restore();
  },
};

const hourLabel = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit" });

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function createPanel(grid: HTMLElement, title: string, horizontal: boolean): Panel {
  const canvas = h("canvas", { attrs: { role: "img" } });
  const table = h("table", { class: "stats__table" });
  const box = h(
    "div",
    { class: horizontal ? "stats__chart stats__chart--tall" : "stats__chart" },
    canvas,
  );
  const figure = h(
    "figure",
    { class: "stats__card" },
    h("figcaption", { class: "stats__title", text: title }),
    box,
    h("details", { class: "stats__data" }, h("summary", { text: "Voir les données" }), table),
  );
  grid.append(figure);
  const text = cssColor("--fg-muted", "#475569");
  const grid_ = cssColor("--border", "#e2e8f0");
  const config: ChartConfiguration<"bar", number[], string> = {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        {
          label: title,
          data: [],
          backgroundColor: cssColor("--accent", "#2563eb"),
          borderRadius: 3,
          maxBarThickness: 36,
        },
      ],
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      // Live updates should not replay an animation on a wall screen every few seconds.
      animation: false,
      // Room for the value written past the end of the longest bar.
      layout: { padding: horizontal ? { right: 28 } : { top: 16 } },
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
      scales: {
        // Every category labelled (autoSkip would drop every other département); the hours
        // axis of the vertical chart may still skip, 24 labels do not fit on a phone.
        x: {
          ticks: { color: text, precision: 0 },
          grid: { color: grid_ },
          beginAtZero: true,
        },
        y: {
          ticks: { color: text, precision: 0, ...(horizontal ? { autoSkip: false } : {}) },
          grid: { color: grid_ },
          beginAtZero: true,
        },
      },
    },
    plugins: [valueLabels],
  };
  return { chart: new Chart(canvas, config), canvas, box, table, title, horizontal };
}

function fill(panel: Panel, labels: string[], counts: number[], colors?: string[]) {
  panel.chart.data.labels = labels;
  const dataset = panel.chart.data.datasets[0];
  if (dataset) {
    dataset.data = counts;
    if (colors) dataset.backgroundColor = colors;
  }
  if (panel.horizontal) {
    // CSSOM, not a style attribute: allowed by the CSP.
    panel.box.style.height = `${Math.max(MIN_CHART_PX, labels.length * BAR_SLOT_PX + 40)}px`;
  }
  panel.chart.update();
  const summary = labels.map((label, i) => `${label} : ${counts[i] ?? 0}`).join(", ");
  panel.canvas.setAttribute("aria-label", `${panel.title}. ${summary || "aucune donnée"}`);
  replaceChildren(
    panel.table,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { attrs: { scope: "col" }, text: "Valeur" }),
        h("th", { attrs: { scope: "col" }, text: "Nombre" }),
      ),
    ),
    h(
      "tbody",
      {},
      ...labels.map((label, i) =>
        h(
          "tr",
          {},
          h("th", { attrs: { scope: "row" }, text: label }),
          h("td", { text: String(counts[i] ?? 0) }),
        ),
      ),
    ),
  );
}

function fillTally(panel: Panel, tallies: Tally[]) {
  fill(
    panel,
    tallies.map((t) => t.label),
    tallies.map((t) => t.count),
  );
}

/** Each status bar in its counter's colour (the label and the value say it too). */
function fillStatus(panel: Panel, tallies: StatusTally[]) {
  fill(
    panel,
    tallies.map((t) => t.label),
    tallies.map((t) => t.count),
    tallies.map((t) => cssColor(`--st-${t.kind}-fg`, "#374151")),
  );
}

export function createStatsView(container: HTMLElement): StatsView {
  const grid = h("div", { class: "stats" });
  replaceChildren(container, grid);
  const byStatus = createPanel(grid, "Interventions par statut", true);
  const byType = createPanel(grid, "Interventions par type", true);
  const byDepartement = createPanel(grid, "Interventions par département", true);
  const perHour = createPanel(grid, "Événements par heure (24 h)", false);
  return {
    update(records, events) {
      fillStatus(byStatus, tallyByStatus(records));
      fillTally(
        byType,
        sortedByLabel(
          tallyBy(records, (r) => r.type, "Sans type"),
          "Sans type",
        ),
      );
      fillTally(
        byDepartement,
        sortedByLabel(
          tallyBy(records, (r) => r.departement, "Sans département"),
          "Sans département",
        ),
      );
      const series = eventsPerHour(events, Date.now());
      fill(
        perHour,
        series.hourStarts.map((ms) => `${hourLabel.format(ms)}`),
        series.counts,
      );
    },
  };
}
