/**
 * The alarm sound: it rings only for alarms (a record that became urgent or blocked), never for
 * ordinary changes, and at most once per few seconds however many alarms arrive. Off by default; browsers (and Grist's iframe, which is not granted
 * `autoplay`) only let audio start from a user gesture, so it is switched on by a click, and
 * the choice is remembered on this device.
 */
import { h, setText } from "./dom.ts";

const STORAGE_KEY = "grist-realtime.sound";
/** A burst of alarms (a replay after an outage) rings once, not eighteen times. */
const MIN_INTERVAL_MS = 5_000;

export interface Sound {
  button: HTMLButtonElement;
  /** Rings for an alarm, unless switched off or it rang less than a few seconds ago. */
  alarm(): void;
  readonly enabled: boolean;
}

function readChoice(): boolean {
  try {
    return window.localStorage.getItem(STORAGE_KEY) === "on";
  } catch {
    return false;
  }
}

function saveChoice(on: boolean) {
  try {
    window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Storage unavailable: the choice lasts for this page only.
  }
}

export function createSound(): Sound {
  let enabled = readChoice();
  let context: AudioContext | null = null;
  let lastPlayed = 0;
  const button = h("button", { class: "btn btn--ghost sound", attrs: { type: "button" } });

  function unlock() {
    try {
      context ??= new AudioContext();
      if (context.state === "suspended") void context.resume();
    } catch {
      context = null;
    }
  }

  function render() {
    button.setAttribute("aria-pressed", String(enabled));
    setText(button, enabled ? "♪ Son activé" : "♪ Son désactivé");
    button.title = enabled ? "Couper le son des alertes" : "Activer le son des alertes";
  }

  button.addEventListener("click", () => {
    enabled = !enabled;
    saveChoice(enabled);
    if (enabled) {
      unlock();
      beep(false);
    }
    render();
  });
  // A remembered "on" still needs one gesture on this page before audio may start.
  if (enabled) {
    const once = () => {
      unlock();
      window.removeEventListener("pointerdown", once);
      window.removeEventListener("keydown", once);
    };
    window.addEventListener("pointerdown", once);
    window.addEventListener("keydown", once);
  }
  render();

  function beep(alarm: boolean) {
    if (context?.state !== "running") return;
    const start = context.currentTime;
    const tones = alarm ? [880, 660, 880] : [660];
    tones.forEach((frequency, index) => {
      if (!context) return;
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = frequency;
      oscillator.type = "sine";
      const t = start + index * 0.18;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.15);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(t);
      oscillator.stop(t + 0.16);
    });
  }

  return {
    button,
    alarm() {
      if (!enabled) return;
      const now = Date.now();
      if (now - lastPlayed < MIN_INTERVAL_MS) return;
      lastPlayed = now;
      beep(true);
    },
    get enabled() {
      return enabled;
    },
  };
}
