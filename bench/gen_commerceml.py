#!/usr/bin/env python3
"""Writes a synthetic CommerceML 2.05 package shaped like a 1C export: a section tree,
reference and plain properties, products with pictures, offers with characteristics,
two price types (retail and wholesale) and stock by warehouse. Usage:

    bench/gen_commerceml.py OUT_DIR --products 100000 --offers-per-product 3 [--images 500]
        [--warehouses 3] [--encoding cp1251] [--sequential] [--changes-only PCT]

Ids are random uuid4 GUIDs, as 1C writes them (seeded: the same --seed gives the same
package). --sequential writes ordered ids instead (00000005-0000-4000-8000-000000000001, …),
which scatter no index inserts and so make an import look faster than a real shop's; the
generator says on its first output line which kind it wrote.

--changes-only PCT writes the package a 1C exchange sends after the full one: the same ids
(same --seed, --products, --offers-per-product), both documents marked
СодержитТолькоИзменения="true", and only PCT percent of the products and their offers, with
new prices and stock.

--id-seed N draws the ids from seed N while --seed varies the rest (names, prices, stock): the
next full export of the same 1C base, whose objects keep their GUIDs.
"""
import argparse
import os
import random
import uuid

BRANDS = ["Aberhof", "Tarkett", "Quick-Step", "Egger", "Kronospan", "Pergo", "Haro", "Witex"]
COLORS = ["белый", "серый", "дуб", "орех", "венге", "ясень", "бук", "клён"]
SIZES = ["S", "M", "L", "XL", "XXL", "38", "39", "40", "41", "42"]
WORDS = ["Ламинат", "Паркет", "Плинтус", "Подложка", "Доска", "Панель", "Порог", "Клей", "Кроссовки", "Куртка",
         "Телефон", "Чехол", "Наушники", "Зарядка", "Кабель"]


class Ids:
    """GUIDs by (kind, n): random uuid4 from a seeded generator, or sequential."""

    def __init__(self, seed, sequential):
        self.sequential = sequential
        self.rnd = random.Random(f"ids-{seed}")
        self.cache = {}

    def __call__(self, kind, n):
        if self.sequential:
            return f"{kind:08x}-0000-4000-8000-{n:012x}"
        key = (kind, n)
        g = self.cache.get(key)
        if g is None:
            g = str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))
            self.cache[key] = g
        return g

    def forget(self, kind, n):
        # Offer ids are used once: keep memory flat at a million products.
        self.cache.pop((kind, n), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--offers-per-product", type=int, default=3)
    ap.add_argument("--sections", type=int, default=200)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--warehouses", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--id-seed", type=int, default=None,
                    help="seed of the ids only (default: --seed); the same ids with other content")
    ap.add_argument("--encoding", choices=["utf-8", "cp1251"], default="utf-8")
    ap.add_argument("--sequential", action="store_true", help="ordered ids instead of random uuid4")
    ap.add_argument("--changes-only", type=float, metavar="PCT", default=None,
                    help="a changes-only package with PCT percent of the products")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    guid = Ids(a.seed if a.id_seed is None else a.id_seed, a.sequential)
    # Ids are drawn in a fixed order (sections, properties, values, price types, warehouses,
    # then per product its id and its offers' ids), so a changes-only run with the same seed
    # reproduces the full package's ids.
    changes = a.changes_only is not None
    pick = random.Random(f"changes-{a.seed}")
    changed = (lambda p: pick.random() * 100 < a.changes_only) if changes else (lambda p: True)
    flag = "true" if changes else "false"
    xml_enc = "windows-1251" if a.encoding == "cp1251" else "UTF-8"
    print(f"ids: {'sequential (--sequential)' if a.sequential else 'random uuid4'}; "
          f"encoding: {xml_enc}; {'changes-only ' + str(a.changes_only) + '%' if changes else 'full'}")

    os.makedirs(os.path.join(a.out, "import_files", "ab"), exist_ok=True)
    for i in range(a.images):
        with open(os.path.join(a.out, "import_files", "ab", f"img{i}.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + i.to_bytes(4, "big") + bytes(rnd.getrandbits(8) for _ in range(2000)))

    tops = max(1, a.sections // 10)
    sections_top = [guid(2, t) for t in range(tops)]
    sections_sub = [guid(3, i) for i in range(tops * 9)]
    brand_prop, color_prop, weight_prop = guid(1, 1), guid(1, 2), guid(1, 3)
    brand_values = [guid(4, i) for i in range(len(BRANDS))]
    retail, wholesale = guid(6, 1), guid(6, 2)
    warehouses = [guid(8, i) for i in range(max(1, a.warehouses))]
    product_ids = [None] * a.products
    offer_ids = [None] * a.products
    for p in range(a.products):
        product_ids[p] = guid(5, p)
        offer_ids[p] = [guid(7, p * a.offers_per_product + o) for o in range(a.offers_per_product)]
        for o in range(a.offers_per_product):
            guid.forget(7, p * a.offers_per_product + o)
        guid.forget(5, p)
    selected = [changed(p) for p in range(a.products)]

    def open_out(name):
        return open(os.path.join(a.out, name), "w", encoding=a.encoding, errors="strict", newline="\n")

    with open_out("import.xml") as f:
        w = f.write
        w(f'<?xml version="1.0" encoding="{xml_enc}"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-11-25T00:00:00">\n')
        w("<Классификатор><Ид>bench</Ид><Наименование>Классификатор</Наименование><Группы>\n")
        for t in range(tops):
            w(f"<Группа><Ид>{sections_top[t]}</Ид><Наименование>Раздел {t + 1}</Наименование><Группы>")
            for s in range(9):
                w(f"<Группа><Ид>{sections_sub[t * 9 + s]}</Ид><Наименование>Подраздел {t + 1}.{s + 1}</Наименование></Группа>")
            w("</Группы></Группа>\n")
        w("</Группы><Свойства>\n")
        w(f"<Свойство><Ид>{brand_prop}</Ид><Наименование>Производитель</Наименование><ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>")
        for i, b in enumerate(BRANDS):
            w(f"<Справочник><ИдЗначения>{brand_values[i]}</ИдЗначения><Значение>{b}</Значение></Справочник>")
        w("</ВариантыЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{color_prop}</Ид><Наименование>Цвет</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{weight_prop}</Ид><Наименование>Вес</Наименование><ТипЗначений>Число</ТипЗначений></Свойство>\n")
        w("</Свойства></Классификатор>\n")
        w(f'<Каталог СодержитТолькоИзменения="{flag}"><Ид>bench</Ид><ИдКлассификатора>bench</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>\n')
        for p in range(a.products):
            name = f"{rnd.choice(WORDS)} {rnd.choice(BRANDS)} {rnd.choice(COLORS)} {p}"
            section = sections_sub[rnd.randrange(tops * 9)]
            brand, color, weight, reviews = (rnd.randrange(len(BRANDS)), rnd.choice(COLORS),
                                             rnd.randrange(100, 5000), rnd.randrange(1000))
            if not selected[p]:
                continue
            if changes:
                reviews += 1
            pics = "".join(f"<Картинка>import_files/ab/img{(p + k) % a.images}.jpg</Картинка>" for k in range(2)) if a.images else ""
            w(f"<Товар><Ид>{product_ids[p]}</Ид><Артикул>ART-{p:07d}</Артикул><Наименование>{name}</Наименование>"
              f'<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
              f"<Группы><Ид>{section}</Ид></Группы><Описание>{name}: описание товара, {reviews} отзывов.</Описание>{pics}"
              f"<ЗначенияСвойств><ЗначенияСвойства><Ид>{brand_prop}</Ид><Значение>{brand_values[brand]}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{color_prop}</Ид><Значение>{color}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{weight_prop}</Ид><Значение>{weight}</Значение></ЗначенияСвойства></ЗначенияСвойств>"
              f"<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>"
              "</Товар>\n")
        w("</Товары></Каталог></КоммерческаяИнформация>\n")

    with open_out("offers.xml") as f:
        w = f.write
        w(f'<?xml version="1.0" encoding="{xml_enc}"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05">\n')
        w(f'<ПакетПредложений СодержитТолькоИзменения="{flag}"><Ид>bench#</Ид><Наименование>Пакет предложений</Наименование><ИдКаталога>bench</ИдКаталога><ИдКлассификатора>bench</ИдКлассификатора>')
        w(f"<ТипыЦен><ТипЦены><Ид>{retail}</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены>"
          f"<ТипЦены><Ид>{wholesale}</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>")
        w("<Склады>" + "".join(f"<Склад><Ид>{wid}</Ид><Наименование>Склад {i + 1}</Наименование></Склад>"
                               for i, wid in enumerate(warehouses)) + "</Склады><Предложения>\n")
        for p in range(a.products):
            base = rnd.randrange(100, 100000)
            cents = rnd.randrange(100)
            stocks = [[rnd.randrange(0, 20) for _ in warehouses] for _ in range(a.offers_per_product)]
            if not selected[p]:
                continue
            if changes:
                base += 1
            for o in range(a.offers_per_product):
                size = SIZES[o % len(SIZES)]
                per = stocks[o]
                rests = "".join(f'<Склад ИдСклада="{warehouses[i]}" КоличествоНаСкладе="{q}"/>' for i, q in enumerate(per))
                w(f"<Предложение><Ид>{product_ids[p]}#{offer_ids[p][o]}</Ид><Наименование>Товар {p} ({size})</Наименование>"
                  f"<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>{size}</Значение></ХарактеристикаТовара>"
                  f"<ХарактеристикаТовара><Наименование>Цвет</Наименование><Значение>{COLORS[(p + o) % len(COLORS)]}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
                  f"<Цены><Цена><Представление>{base} руб. за шт</Представление><ИдТипаЦены>{retail}</ИдТипаЦены><ЦенаЗаЕдиницу>{base}.{cents:02d}</ЦенаЗаЕдиницу><Валюта>руб</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>"
                  f"<Цена><ИдТипаЦены>{wholesale}</ИдТипаЦены><ЦенаЗаЕдиницу>{base * 9 // 10}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>"
                  f"<Количество>{sum(per)}</Количество>{rests}</Предложение>\n")
        w("</Предложения></ПакетПредложений></КоммерческаяИнформация>\n")


if __name__ == "__main__":
    main()
