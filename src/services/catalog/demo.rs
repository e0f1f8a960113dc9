//! The demo catalog: a realistic Spanish-language shop (premium meats, charcutería, almacén,
//! drinks…) loaded into the default store by `feria seed --demo` or `feria serve --demo`.
//! Idempotent: products are keyed by SKU and categories, units and tags by name.

use feria_db::AnyConnection;

use super::products::{self, ProductData};
use super::taxonomy::{self, EntryChanges, Taxonomy};

/// A unit: name, description, abbreviation.
const UNITS: [(&str, &str, &str); 4] =
    [("kg", "Kilogramo", "kg"), ("unidad", "Unidad suelta", "u"), ("paquete", "Paquete cerrado", "paq"), ("litro", "Litro", "l")];

/// A category: name, description, unit of its products, and base products (name, description, price in ARS).
type CategoryData = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str, i64)]);

const CATALOG: &[CategoryData] = &[
    (
        "Carnes vacunas",
        "Cortes vacunos seleccionados, de novillo pastoril",
        "kg",
        &[
            ("Bife de chorizo", "El clásico de la parrilla: tierno, con su cordón de grasa", 18_900),
            ("Ojo de bife", "Corte marmoleado, jugoso y lleno de sabor", 21_500),
            ("Vacío", "Ideal a la parrilla, crocante por fuera y jugoso por dentro", 15_800),
            ("Entraña", "Fina y sabrosa, se hace rápido a fuego fuerte", 19_900),
            ("Asado de tira", "Costillar cortado en tiras para la parrilla del domingo", 13_400),
            ("Lomo", "El corte más tierno, para medallones o entero", 24_800),
            ("Matambre", "Para arrollar o a la pizza, bien desgrasado", 14_200),
        ],
    ),
    (
        "Cerdo",
        "Cortes de cerdo frescos de criadero propio",
        "kg",
        &[
            ("Bondiola de cerdo", "Para braseado lento o a la parrilla", 11_900),
            ("Matambre de cerdo", "Tierno, ideal a la pizza", 12_800),
            ("Costillitas de cerdo", "Para horno o parrilla con barbacoa", 9_800),
            ("Solomillo de cerdo", "Magro y tierno, cocción rápida", 13_500),
            ("Pechito de cerdo", "Con cuero, para lograr la piel crocante", 8_900),
            ("Carré de cerdo", "Con hueso, para bifes o al horno", 10_400),
            ("Paleta de cerdo", "Para desmechar o guisos", 8_200),
        ],
    ),
    (
        "Aves",
        "Pollos y aves de granja",
        "kg",
        &[
            ("Pollo entero", "Pollo de campo, ideal al horno", 4_900),
            ("Pechuga de pollo", "Sin piel y sin hueso", 7_900),
            ("Muslos de pollo", "Jugosos, para horno o parrilla", 5_600),
            ("Alitas de pollo", "Para freír o a la barbacoa", 4_800),
            ("Suprema rellena", "Rellena de jamón y queso, lista para hornear", 9_200),
            ("Pata muslo", "Corte entero con hueso", 5_200),
            ("Pavita", "Carne magra de pavo en trozos", 8_700),
        ],
    ),
    (
        "Embutidos y achuras",
        "Chorizos, morcillas y achuras para la parrilla",
        "kg",
        &[
            ("Chorizo puro cerdo", "Receta de la casa, sin conservantes", 7_900),
            ("Morcilla vasca", "Con cebolla y especias", 6_400),
            ("Chinchulines", "Limpios, listos para la parrilla", 6_900),
            ("Mollejas", "De corazón, las más tiernas", 17_800),
            ("Riñones", "Frescos del día", 4_200),
            ("Salchicha parrillera", "Fina, de cerdo y vaca", 7_200),
            ("Chorizo colorado", "Con pimentón, para guisos", 8_100),
        ],
    ),
    (
        "Charcutería",
        "Fiambres curados y cocidos",
        "paquete",
        &[
            ("Jamón crudo", "Estacionado 12 meses, en fetas finas", 6_800),
            ("Jamón cocido natural", "Sin agregados, feteado", 3_900),
            ("Salame milán", "Picado fino, estacionado", 4_300),
            ("Bondiola curada", "Curada con especias, feteada", 5_900),
            ("Lomito ahumado", "Ahumado en frío con leña de quebracho", 6_200),
            ("Mortadela con pistacho", "Estilo Bologna", 3_100),
            ("Pastrón", "Carne curada y especiada, cortada fina", 7_400),
        ],
    ),
    (
        "Quesos",
        "Quesos de campo y de autor",
        "paquete",
        &[
            ("Queso provoleta", "Para la parrilla, con orégano", 4_600),
            ("Queso reggianito", "Estacionado, para rallar", 5_300),
            ("Queso azul", "Cremoso y intenso", 5_800),
            ("Queso pategrás", "Semiduro, ideal para picadas", 4_900),
            ("Queso brie", "De pasta blanda y corteza enmohecida", 6_400),
            ("Queso de cabra", "Fresco, de tambo artesanal", 6_100),
            ("Mozzarella", "Para pizza, de leche entera", 3_800),
        ],
    ),
    (
        "Almacén",
        "Productos de almacén para acompañar",
        "unidad",
        &[
            ("Chimichurri casero", "Frasco de 250 g, receta de la casa", 2_900),
            ("Sal parrillera", "Sal gruesa de salinas patagónicas", 1_200),
            ("Aceite de oliva extra virgen", "Botella de 500 ml, primera prensada", 6_900),
            ("Salsa criolla", "Frasco de 300 g", 2_400),
            ("Pan de campo", "Horneado a leña", 2_100),
            ("Carbón vegetal", "Bolsa de 4 kg, de quebracho", 4_500),
            ("Leña de quebracho", "Bolsa de 10 kg", 6_200),
        ],
    ),
    (
        "Bebidas",
        "Bebidas sin alcohol y cervezas",
        "unidad",
        &[
            ("Agua mineral", "Botella de 1,5 l, sin gas", 900),
            ("Gaseosa cola", "Botella de 2,25 l", 2_300),
            ("Soda en sifón", "Sifón de 1,5 l", 1_100),
            ("Cerveza rubia", "Lata de 473 ml", 1_600),
            ("Cerveza negra", "Botella de 1 l", 2_800),
            ("Agua saborizada", "Botella de 1,5 l, pomelo", 1_300),
            ("Jugo de naranja exprimido", "Botella de 1 l", 2_700),
        ],
    ),
    (
        "Vinos",
        "Vinos argentinos seleccionados",
        "unidad",
        &[
            ("Malbec Mendoza", "Tinto joven, frutado", 5_900),
            ("Cabernet Sauvignon", "Tinto con crianza en roble", 7_800),
            ("Torrontés Salta", "Blanco aromático del norte", 5_200),
            ("Bonarda", "Tinto suave y frutado", 4_900),
            ("Blend de tintos", "Malbec, Cabernet y Merlot", 9_900),
            ("Espumante extra brut", "Método tradicional", 8_900),
            ("Rosado de Malbec", "Fresco, para el verano", 5_400),
        ],
    ),
    (
        "Panadería",
        "Panes y facturas del día",
        "unidad",
        &[
            ("Pan francés", "Bolsa de 1 kg", 2_200),
            ("Pan de hamburguesa", "Pack de 6 unidades con sésamo", 2_600),
            ("Pan de pancho", "Pack de 6 unidades", 2_100),
            ("Medialunas de manteca", "Docena", 5_800),
            ("Chipá", "Bolsa de 500 g, de queso", 3_900),
            ("Grisines", "Paquete de 200 g", 1_700),
            ("Prepizza", "Pack de 2 unidades", 2_500),
        ],
    ),
    (
        "Congelados",
        "Listos para el freezer",
        "paquete",
        &[
            ("Hamburguesas caseras", "Caja de 4, de carne vacuna", 6_800),
            ("Milanesas de nalga", "Rebozadas, 1 kg", 12_900),
            ("Milanesas de pollo", "Rebozadas, 1 kg", 9_400),
            ("Empanadas de carne", "Docena, cortada a cuchillo", 14_500),
            ("Papas bastón", "Bolsa de 1 kg", 3_600),
            ("Albóndigas", "Bolsa de 800 g", 7_200),
            ("Nuggets de pollo", "Bolsa de 500 g", 4_800),
        ],
    ),
    (
        "Lácteos",
        "Leches, cremas y manteca",
        "litro",
        &[
            ("Leche entera", "Sachet de 1 l", 1_400),
            ("Crema de leche", "Pote de 360 ml", 2_300),
            ("Yogur natural", "Pote de 1 l", 2_600),
            ("Dulce de leche", "Pote de 1 kg, repostero", 4_700),
            ("Manteca", "Pan de 200 g", 2_900),
            ("Leche descremada", "Sachet de 1 l", 1_400),
            ("Queso crema", "Pote de 290 g", 2_800),
        ],
    ),
];

/// Presentations each base product comes in: name suffix, price factor (percent), tag.
const VARIANTS: [(&str, i64, Option<&str>); 3] = [("", 100, None), (" x 2", 190, Some("combo")), (" selección", 135, Some("premium"))];

/// What loading the demo catalog did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub created: usize,
    pub existing: usize,
}

/// Loads the demo catalog into the default store in one transaction.
pub async fn load_into_default_store(app: &crate::app::App) -> anyhow::Result<DemoReport> {
    let mut tx = app.db.begin().await?;
    let store = super::stores::ensure_default(&mut tx).await?;
    let report = load(&mut tx, &store.id).await.map_err(|e| anyhow::anyhow!("loading the demo catalog: {e:?}"))?;
    tx.commit().await?;
    app.catalog_changed(None).await;
    tracing::info!(created = report.created, existing = report.existing, "demo catalog loaded");
    Ok(report)
}

/// Loads the demo catalog into `store_id`; products already there (by SKU) are left as they are.
pub async fn load(conn: &mut AnyConnection, store_id: &str) -> Result<DemoReport, products::WriteError> {
    let mut units = std::collections::HashMap::new();
    for (name, description, abbreviation) in UNITS {
        let unit = ensure(conn, Taxonomy::Unit, store_id, name, description, Some(abbreviation)).await?;
        units.insert(name, unit);
    }
    let mut report = DemoReport::default();
    let mut counter = 0usize;
    for (c, (category_name, category_description, unit_name, items)) in CATALOG.iter().enumerate() {
        let category = ensure(conn, Taxonomy::Category, store_id, category_name, category_description, None).await?;
        for (i, (name, description, price)) in items.iter().enumerate() {
            for (v, (suffix, factor, variant_tag)) in VARIANTS.iter().enumerate() {
                counter += 1;
                let sku = format!("DEMO-{:02}-{:02}-{v}", c + 1, i + 1);
                if products::find_by_sku(conn, store_id, &sku).await?.is_some() {
                    report.existing += 1;
                    continue;
                }
                let mut tags: Vec<String> = variant_tag.iter().map(|t| t.to_string()).collect();
                if counter % 4 == 1 {
                    tags.push("popular".into());
                }
                if counter % 5 == 2 {
                    tags.push("oferta".into());
                }
                if c == 0 && v == 0 {
                    tags.push("premium".into());
                }
                let data = ProductData {
                    name: format!("{name}{suffix}"),
                    description: format!("{description}.{}", if v == 1 { " Pack de dos al mejor precio." } else { "" }),
                    sku: Some(sku),
                    price: price * factor,
                    tax_rate_bp: if *category_name == "Almacén" || *category_name == "Panadería" { 1050 } else { 2100 },
                    stock: if counter.is_multiple_of(13) { 0 } else { (counter * 37 % 60) as i64 + 5 },
                    is_active: true,
                    weight_grams: (*unit_name == "kg").then_some(if v == 1 { 2000 } else { 1000 }),
                    dimensions: None,
                    category_id: category.id.clone(),
                    unit_id: units[unit_name].id.clone(),
                    tags,
                };
                products::create(conn, store_id, &data).await?;
                report.created += 1;
            }
        }
    }
    Ok(report)
}

async fn ensure(
    conn: &mut AnyConnection,
    kind: Taxonomy,
    store_id: &str,
    name: &str,
    description: &str,
    abbreviation: Option<&str>,
) -> Result<taxonomy::Entry, sqlx::Error> {
    let entry = taxonomy::find_or_create(conn, kind, store_id, name).await?;
    if !entry.description.is_empty() {
        return Ok(entry);
    }
    let changes = EntryChanges {
        description: Some(description.to_string()),
        abbreviation: abbreviation.map(|a| Some(a.to_string())),
        ..EntryChanges::default()
    };
    Ok(taxonomy::update(conn, kind, store_id, &entry.id, changes).await?.unwrap_or(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_big_enough() {
        let products: usize = CATALOG.iter().map(|c| c.3.len() * VARIANTS.len()).sum();
        assert!(products >= 200, "{products}");
        assert!(CATALOG.len() >= 10);
    }
}
