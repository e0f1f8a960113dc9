#!/usr/bin/env python3
"""Writes an import file with N product rows: make_import.py N OUT.(xlsx|csv). Standard library only.

The XLSX is a minimal workbook (inline strings), like the one spreadsheet tools export."""
import csv
import sys
import zipfile

CUTS = ["Bife de chorizo", "Ojo de bife", "Vacío", "Entraña", "Asado", "Lomo", "Matambre", "Bondiola", "Chorizo", "Morcilla"]
HEADER = ["nombre", "descripción", "precio", "categoria", "sku", "stock", "imagen_url", "peso", "dimensiones"]


def rows(n):
    for i in range(n):
        yield [f"{CUTS[i % len(CUTS)]} {i}", "Producto de prueba", f"{1000 + i % 50000}.50", f"Categoría {i % 20}", f"IMP-{i}", str(i % 40), "", "1.5", "30x20 cm"]


def write_xlsx(n, path):
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Productos" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'.encode())
            for r, row in enumerate([HEADER, *rows(n)], 1):
                cells = "".join(f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{esc(v)}</t></is></c>' for c, v in enumerate(row) if v)
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    if path.endswith(".csv"):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            w.writerows(rows(n))
    else:
        write_xlsx(n, path)


if __name__ == "__main__":
    main()
