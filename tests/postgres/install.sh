#!/usr/bin/env bash
# Installs what the PostgreSQL tests need on Debian 12: PostgreSQL 15 from Debian's packages and pgvector,
# built from Debian's own source package (Debian 12 ships no binary package of it). Run as root; safe to rerun.
set -euo pipefail

pg_major=15
pg_config=/usr/lib/postgresql/$pg_major/bin/pg_config

need=()
[ -x /usr/lib/postgresql/$pg_major/bin/initdb ] || need+=(postgresql-$pg_major)
[ -f /usr/include/postgresql/$pg_major/server/postgres.h ] || need+=(postgresql-server-dev-$pg_major)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f "$("$pg_config" --pkglibdir)/vector.so" ]; then
  echo "pgvector is installed for PostgreSQL $pg_major."
  exit 0
fi

# A private apt configuration with a deb-src line for Debian's next release, which packages pgvector;
# the system's own sources are left as they are.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$work/sources.list"
apt_private=(-o APT::Sandbox::User=root -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_private[@]}" update -qq
(cd "$work" && apt-get "${apt_private[@]}" source --download-only -qq pgvector >/dev/null)
tar -xf "$work"/pgvector_*.orig.tar.* -C "$work"
src=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
# with_llvm=no: no clang here, and the JIT bitcode is optional; OPTFLAGS="": no -march=native, the build may move.
make -s -C "$src" PG_CONFIG="$pg_config" with_llvm=no OPTFLAGS="" >/dev/null
make -s -C "$src" PG_CONFIG="$pg_config" with_llvm=no install >/dev/null
echo "pgvector $(basename "$src" | sed 's/pgvector-//') built and installed for PostgreSQL $pg_major."
