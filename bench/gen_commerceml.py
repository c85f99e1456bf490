#!/usr/bin/env python3
"""Writes a synthetic CommerceML 2.05 package shaped like a 1C export: a section tree,
reference and plain properties, products with pictures, offers with characteristics,
two price types and stock. Usage:

    bench/gen_commerceml.py OUT_DIR --products 100000 --offers-per-product 3 [--images 500]
"""
import argparse
import os
import random

BRANDS = ["Aberhof", "Tarkett", "Quick-Step", "Egger", "Kronospan", "Pergo", "Haro", "Witex"]
COLORS = ["белый", "серый", "дуб", "орех", "венге", "ясень", "бук", "клён"]
SIZES = ["S", "M", "L", "XL", "XXL", "38", "39", "40", "41", "42"]
WORDS = ["Ламинат", "Паркет", "Плинтус", "Подложка", "Доска", "Панель", "Порог", "Клей", "Кроссовки", "Куртка",
         "Телефон", "Чехол", "Наушники", "Зарядка", "Кабель"]


def guid(kind, n):
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--offers-per-product", type=int, default=3)
    ap.add_argument("--sections", type=int, default=200)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(os.path.join(a.out, "import_files", "ab"), exist_ok=True)
    for i in range(a.images):
        with open(os.path.join(a.out, "import_files", "ab", f"img{i}.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + i.to_bytes(4, "big") + bytes(rnd.getrandbits(8) for _ in range(2000)))

    brand_prop, color_prop, weight_prop = guid(1, 1), guid(1, 2), guid(1, 3)
    with open(os.path.join(a.out, "import.xml"), "w", encoding="utf-8") as f:
        w = f.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-11-25T00:00:00">\n')
        w("<Классификатор><Ид>bench</Ид><Наименование>Классификатор</Наименование><Группы>\n")
        tops = max(1, a.sections // 10)
        for t in range(tops):
            w(f"<Группа><Ид>{guid(2, t)}</Ид><Наименование>Раздел {t + 1}</Наименование><Группы>")
            for s in range(9):
                w(f"<Группа><Ид>{guid(3, t * 9 + s)}</Ид><Наименование>Подраздел {t + 1}.{s + 1}</Наименование></Группа>")
            w("</Группы></Группа>\n")
        w("</Группы><Свойства>\n")
        w(f"<Свойство><Ид>{brand_prop}</Ид><Наименование>Производитель</Наименование><ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>")
        for i, b in enumerate(BRANDS):
            w(f"<Справочник><ИдЗначения>{guid(4, i)}</ИдЗначения><Значение>{b}</Значение></Справочник>")
        w("</ВариантыЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{color_prop}</Ид><Наименование>Цвет</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{weight_prop}</Ид><Наименование>Вес</Наименование><ТипЗначений>Число</ТипЗначений></Свойство>\n")
        w("</Свойства></Классификатор>\n")
        w('<Каталог СодержитТолькоИзменения="false"><Ид>bench</Ид><ИдКлассификатора>bench</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>\n')
        for p in range(a.products):
            name = f"{rnd.choice(WORDS)} {rnd.choice(BRANDS)} {rnd.choice(COLORS)} {p}"
            section = guid(3, rnd.randrange(tops * 9))
            pics = "".join(f"<Картинка>import_files/ab/img{(p + k) % a.images}.jpg</Картинка>" for k in range(2))
            w(f"<Товар><Ид>{guid(5, p)}</Ид><Артикул>ART-{p:07d}</Артикул><Наименование>{name}</Наименование>"
              f'<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
              f"<Группы><Ид>{section}</Ид></Группы><Описание>{name}: описание товара, {rnd.randrange(1000)} отзывов.</Описание>{pics}"
              f"<ЗначенияСвойств><ЗначенияСвойства><Ид>{brand_prop}</Ид><Значение>{guid(4, rnd.randrange(len(BRANDS)))}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{color_prop}</Ид><Значение>{rnd.choice(COLORS)}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{weight_prop}</Ид><Значение>{rnd.randrange(100, 5000)}</Значение></ЗначенияСвойства></ЗначенияСвойств>"
              f"<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>"
              "</Товар>\n")
        w("</Товары></Каталог></КоммерческаяИнформация>\n")

    retail, wholesale = guid(6, 1), guid(6, 2)
    with open(os.path.join(a.out, "offers.xml"), "w", encoding="utf-8") as f:
        w = f.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05">\n')
        w('<ПакетПредложений СодержитТолькоИзменения="false"><Ид>bench#</Ид><Наименование>Пакет предложений</Наименование><ИдКаталога>bench</ИдКаталога><ИдКлассификатора>bench</ИдКлассификатора>')
        w(f"<ТипыЦен><ТипЦены><Ид>{retail}</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены>"
          f"<ТипЦены><Ид>{wholesale}</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n")
        for p in range(a.products):
            base = rnd.randrange(100, 100000)
            for o in range(a.offers_per_product):
                size = SIZES[o % len(SIZES)]
                w(f"<Предложение><Ид>{guid(5, p)}#{guid(7, p * a.offers_per_product + o)}</Ид><Наименование>Товар {p} ({size})</Наименование>"
                  f"<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>{size}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
                  f"<Цены><Цена><Представление>{base} руб. за шт</Представление><ИдТипаЦены>{retail}</ИдТипаЦены><ЦенаЗаЕдиницу>{base}.{rnd.randrange(100):02d}</ЦенаЗаЕдиницу><Валюта>руб</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>"
                  f"<Цена><ИдТипаЦены>{wholesale}</ИдТипаЦены><ЦенаЗаЕдиницу>{base * 9 // 10}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>"
                  f"<Количество>{rnd.randrange(0, 50)}</Количество></Предложение>\n")
        w("</Предложения></ПакетПредложений></КоммерческаяИнформация>\n")


if __name__ == "__main__":
    main()
