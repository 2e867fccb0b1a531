"""Moved to :mod:`mathwright.io` (shared by every layer, so it sits at the package root); this name stays
for scripts and tests that import it from here."""
from mathwright.io import (DataError, InputError, RecordLog, atomic_write, check_input_file,  # noqa: F401
                           check_output_path, dumps, read_jsonl, read_lines, read_records, write_json)
