#!/usr/bin/env python3
"""Writes Sources/DicomKit/DictionaryData.swift from the DICOM data dictionary (PS3.6) that the
pydicom package ships in machine-readable form (pydicom._dicom_dict).

    python3 -m venv /tmp/pyd && /tmp/pyd/bin/pip install pydicom
    /tmp/pyd/bin/python scripts/generate-dicom-dictionary.py

The output is two raw multi-line string literals, one line per element (tab-separated:
tag or tag mask, VR, VM, keyword, name, "R" when retired), which DicomDictionary parses once at
first use. A string literal, not an array literal: thousands of array elements make the Swift
type checker crawl, while a string literal of any length costs nothing to compile.
"""

import os
import sys

try:
    import pydicom
    from pydicom._dicom_dict import DicomDictionary, RepeatersDictionary
except ImportError:
    sys.exit("pydicom is not installed; see the docstring of this script for how to run it")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "DicomKit", "DictionaryData.swift")
FORBIDDEN = ("\t", "\n", "\r", '"""#')


def line(tag_text, entry):
    vr, vm, name, retired, keyword = entry
    for field in (vr, vm, name, keyword):
        for bad in FORBIDDEN:
            if bad in field:
                sys.exit(f"{tag_text}: field {field!r} contains {bad!r}, which the Swift literal cannot hold")
    fields = [tag_text, vr, vm, keyword, name]
    if retired.strip().lower() == "retired":
        fields.append("R")  # no trailing tab otherwise: editors strip trailing whitespace
    return "\t".join(fields)


def main():
    exact = [line(f"{tag:08X}", DicomDictionary[tag]) for tag in sorted(DicomDictionary)]
    masks = sorted(RepeatersDictionary)
    for mask in masks:
        if len(mask) != 8 or any(c not in "0123456789ABCDEFabcdefx" for c in mask):
            sys.exit(f"unexpected repeater mask {mask!r}")
    repeaters = [line(mask.upper().replace("X", "x"), RepeatersDictionary[mask]) for mask in masks]

    out = []
    out.append("// GENERATED FILE: do not edit by hand.")
    out.append(f"// The DICOM data dictionary (PS3.6) as shipped by pydicom {pydicom.__version__}")
    out.append(f"// ({len(exact)} elements, {len(repeaters)} repeating-group masks).")
    out.append("// Regenerate with:")
    out.append("//   python3 -m venv /tmp/pyd && /tmp/pyd/bin/pip install pydicom")
    out.append("//   /tmp/pyd/bin/python scripts/generate-dicom-dictionary.py")
    out.append("// One line per element, tab-separated: tag (or mask, 'x' = any hex digit), VR, VM, keyword, name,")
    out.append("// and a sixth field 'R' when the element is retired.")
    out.append("")
    out.append("enum DictionaryData {")
    out.append(f'    static let sourceVersion = "pydicom {pydicom.__version__}"')
    out.append("")
    out.append("    static let exact = #\"\"\"")
    out.extend(exact)
    out.append("\"\"\"#")
    out.append("")
    out.append("    static let repeaters = #\"\"\"")
    out.extend(repeaters)
    out.append("\"\"\"#")
    out.append("}")
    out.append("")
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out))
    print(f"wrote {os.path.normpath(OUT)}: {len(exact)} elements, {len(repeaters)} masks, pydicom {pydicom.__version__}")


if __name__ == "__main__":
    main()
