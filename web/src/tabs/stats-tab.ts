/**
 * Statistiques: loaded on first display of the tab. Only the Chart.js parts used are registered,
 * so the bundler drops the rest. Each chart also carries its numbers as text (aria-label and a
 * data table) for screen readers and for colour-blind readers.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  LinearScale,
  Tooltip,
} from "chart.js";
import { eventsPerHour, type Tally, tallyBy } from "../core/stats.ts";
import type { Intervention, LiveEvent } from "../core/types.ts";
import { h, replaceChildren } from "../ui/dom.ts";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface StatsView {
  update(records: readonly Intervention[], events: readonly LiveEvent[]): void;
}

interface Panel {
  chart: Chart<"bar", number[], string>;
  canvas: HTMLCanvasElement;
  table: HTMLTableElement;
  title: string;
}

const hourLabel = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit" });

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function createPanel(grid: HTMLElement, title: string, horizontal: boolean): Panel {
  const canvas = h("canvas", { attrs: { role: "img" } });
  const table = h("table", { class: "stats__table" });
  const figure = h(
    "figure",
    { class: "stats__card" },
    h("figcaption", { class: "stats__title", text: title }),
    h("div", { class: horizontal ? "stats__chart stats__chart--tall" : "stats__chart" }, canvas),
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
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
      scales: {
        x: { ticks: { color: text, precision: 0 }, grid: { color: grid_ } },
        y: { ticks: { color: text, precision: 0 }, grid: { color: grid_ }, beginAtZero: true },
      },
    },
  };
  return { chart: new Chart(canvas, config), canvas, table, title };
}

function fill(panel: Panel, labels: string[], counts: number[]) {
  panel.chart.data.labels = labels;
  const dataset = panel.chart.data.datasets[0];
  if (dataset) dataset.data = counts;
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

export function createStatsView(container: HTMLElement): StatsView {
  const grid = h("div", { class: "stats" });
  replaceChildren(container, grid);
  const byStatus = createPanel(grid, "Interventions par statut", true);
  const byType = createPanel(grid, "Interventions par type", true);
  const byDepartement = createPanel(grid, "Interventions par département", true);
  const perHour = createPanel(grid, "Événements par heure (24 h)", false);
  return {
    update(records, events) {
      fillTally(
        byStatus,
        tallyBy(records, (r) => r.statut, "Sans statut"),
      );
      fillTally(
        byType,
        tallyBy(records, (r) => r.type, "Sans type"),
      );
      fillTally(
        byDepartement,
        tallyBy(records, (r) => r.departement, "Sans département"),
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
