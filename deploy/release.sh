#!/usr/bin/env bash
# Prépare une installation de production du relais dans <dossier>, sans Docker, avec exactement
# les étapes de deploy/Dockerfile (test/deploy/production-install.test.ts vérifie qu'elles
# restent identiques et exécute ce script) :
#   1. dans un dossier de construction temporaire : toutes les dépendances, puis le tableau de bord ;
#   2. dans <dossier> : ce que l'image copie, puis les seules dépendances d'exécution.
# Usage, depuis un clone du dépôt :  deploy/release.sh /opt/grist-realtime
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "Usage : $0 <dossier d'installation>" >&2
  exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
target="$(cd "$1" && pwd)"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

# --- Étape 1 (image « web ») : construire le tableau de bord.
cd "$build"
cp "$repo/package.json" "$repo/package-lock.json" ./
# --ignore-scripts : le script « prepare » construirait le tableau de bord avant que web/ soit là.
npm ci --no-audit --no-fund --ignore-scripts
cp -R "$repo/src" ./src
cp -R "$repo/web" ./web
rm -rf ./web/dist
npm run build:web

# --- Étape 2 (image exécutée) : le code, le tableau de bord construit, les dépendances d'exécution.
cd "$target"
rm -rf ./src ./web ./node_modules
cp "$repo/package.json" "$repo/package-lock.json" ./
npm ci --omit=dev --no-audit --no-fund --ignore-scripts
cp -R "$repo/src" ./src
find ./src -name '*.test.ts' -delete
mkdir -p ./web
cp -R "$build/web/dist" ./web/dist
echo "Installé dans $target. Démarrage : node src/cli/main.ts serve (dans ce dossier)."
