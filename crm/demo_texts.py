"""The demo data's words in each of the shop's languages: customer names, device problems, the catalogue, the
notes the desk and the technician type, tier and category names. SKUs and device model names stay as they are
(shops write them so, and the demo matches parts to devices by model name)."""

LANGUAGES = ("en", "uk", "ru", "ro")

# Surnames that read right for women and men alike, so any first name goes with any surname.
FIRST = {
    "en": ["Olena", "Andrii", "Iryna", "Mykola", "Oksana", "Taras", "Natalia", "Dmytro", "Sofia", "Ivan",
           "Maria", "Serhii", "Yulia", "Bogdan", "Kateryna", "Vasile", "Ana", "Ion", "Elena", "Mihai"],
    "uk": ["Олена", "Андрій", "Ірина", "Микола", "Оксана", "Тарас", "Наталія", "Дмитро", "Софія", "Іван",
           "Марія", "Сергій", "Юлія", "Богдан", "Катерина", "Василь", "Ганна", "Олег", "Людмила", "Михайло"],
    "ru": ["Елена", "Андрей", "Ирина", "Николай", "Оксана", "Тарас", "Наталья", "Дмитрий", "София", "Иван",
           "Мария", "Сергей", "Юлия", "Богдан", "Екатерина", "Василий", "Анна", "Олег", "Людмила", "Михаил"],
    "ro": ["Ana", "Ion", "Elena", "Mihai", "Maria", "Andrei", "Ioana", "Vasile", "Cristina", "Alexandru",
           "Natalia", "Dumitru", "Irina", "Gheorghe", "Daniela", "Victor", "Doina", "Sergiu", "Mariana", "Ștefan"],
}
LAST = {
    "en": ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Popescu", "Rusu",
           "Ionescu", "Moroz", "Lysenko", "Savchenko", "Ceban", "Rudenko", "Marchenko"],
    "uk": ["Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник", "Лисенко", "Савченко",
           "Руденко", "Марченко", "Мороз", "Бойко", "Поліщук", "Кузьменко", "Гончаренко"],
    "ru": ["Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник", "Лысенко", "Савченко",
           "Руденко", "Марченко", "Мороз", "Бойко", "Гончаренко", "Черных", "Седых"],
    "ro": ["Popescu", "Rusu", "Ionescu", "Ceban", "Munteanu", "Lupu", "Ciobanu", "Moraru", "Țurcanu", "Rotaru",
           "Dumitrescu", "Stoica", "Cojocaru", "Năstase", "Bălan"],
}
PROBLEMS = {
    "en": ["Cracked screen", "Does not charge", "Battery drains fast", "No sound in calls", "Water damage",
           "Keyboard keys stuck", "Overheats and shuts down", "Camera is blurry"],
    "uk": ["Розбитий екран", "Не заряджається", "Швидко сідає батарея", "Не чути співрозмовника", "Потрапила вода",
           "Западають клавіші", "Перегрівається і вимикається", "Камера не фокусується"],
    "ru": ["Разбит экран", "Не заряжается", "Быстро садится батарея", "Не слышно собеседника", "Попала вода",
           "Западают клавиши", "Перегревается и выключается", "Камера не фокусируется"],
    "ro": ["Ecran spart", "Nu se încarcă", "Bateria se descarcă repede", "Nu se aude în convorbiri",
           "A intrat apă", "Taste blocate", "Se supraîncălzește și se oprește", "Camera nu focalizează"],
}
# What the desk and the technician type: condition, accessories, the work line, a part not in the catalogue
# (with {model}), the note on the opening stock.
WORDS = {
    "en": {"condition": "Scratches on the back", "accessories": "Case", "work": "Replacement work",
           "part": "{model} part", "opening_stock": "Opening stock"},
    "uk": {"condition": "Подряпини на задній кришці", "accessories": "Чохол", "work": "Заміна (робота)",
           "part": "Запчастина {model}", "opening_stock": "Початкові залишки"},
    "ru": {"condition": "Царапины на задней крышке", "accessories": "Чехол", "work": "Замена (работа)",
           "part": "Запчасть {model}", "opening_stock": "Начальные остатки"},
    "ro": {"condition": "Zgârieturi pe capacul din spate", "accessories": "Husă", "work": "Manoperă înlocuire",
           "part": "Piesă {model}", "opening_stock": "Stoc inițial"},
}
# The demo logins' names (username: full name).
STAFF = {
    "en": {"manager": "Demo Manager", "desk": "Demo Desk", "tech": "Demo Tech"},
    "uk": {"manager": "Ірина Коваль", "desk": "Оксана Дорош", "tech": "Тарас Майстренко"},
    "ru": {"manager": "Ирина Коваль", "desk": "Оксана Дорош", "tech": "Тарас Мастеренко"},
    "ro": {"manager": "Elena Croitoru", "desk": "Ana Sârbu", "tech": "Mihai Rotaru"},
}
COUPONS = {
    "en": ("15% off accessories after a repair", "Promo: 10% off accessories"),
    "uk": ("-15% на аксесуари після ремонту", "Промокод: -10% на аксесуари"),
    "ru": ("-15% на аксессуары после ремонта", "Промокод: -10% на аксессуары"),
    "ro": ("-15% la accesorii după o reparație", "Cod promoțional: -10% la accesorii"),
}
# Category code -> name, tier rank -> name (rows the migrations create in English).
CATEGORIES = {
    "uk": {"accessory": "Аксесуари", "spare_part": "Запчастини", "service": "Послуги"},
    "ru": {"accessory": "Аксессуары", "spare_part": "Запчасти", "service": "Услуги"},
    "ro": {"accessory": "Accesorii", "spare_part": "Piese de schimb", "service": "Servicii"},
}
TIERS = {
    "uk": {1: "Бронзовий", 2: "Срібний", 3: "Золотий"},
    "ru": {1: "Бронзовый", 2: "Серебряный", 3: "Золотой"},
    "ro": {1: "Bronz", 2: "Argint", 3: "Aur"},
}
# SKU -> name; English names are in crm.demo.CATALOGUE.
ITEM_NAMES = {
    "uk": {
        "CASE-IP13-SIL": "Силіконовий чохол iPhone 13", "CASE-IP15-SIL": "Силіконовий чохол iPhone 15",
        "CASE-A54-BOOK": "Чохол-книжка Galaxy A54", "CASE-RN12-TPU": "Прозорий чохол TPU Redmi Note 12",
        "GLASS-IP13": "Захисне скло iPhone 13", "GLASS-IP15": "Захисне скло iPhone 15",
        "GLASS-A54": "Захисне скло Galaxy A54", "GLASS-RN12": "Захисне скло Redmi Note 12",
        "CHG-20W-USBC": "Зарядний пристрій 20 Вт USB-C", "CHG-65W-GAN": "Зарядний пристрій 65 Вт GaN, 2 порти",
        "CBL-USBC-1M": "Кабель USB-C – USB-C, 1 м", "CBL-LTN-1M": "Кабель USB-C – Lightning, 1 м",
        "CBL-MICRO-1M": "Кабель USB-A – micro-USB, 1 м", "PWR-10K": "Павербанк 10000 мА·год",
        "HOLD-CAR-MAG": "Магнітний тримач в авто", "SCR-IP13-OLED": "Дисплей iPhone 13 (OLED)",
        "SCR-IP11-LCD": "Дисплей iPhone 11 (LCD)", "SCR-A54-AMO": "Дисплей Galaxy A54 (AMOLED)",
        "SCR-RN12-ORIG": "Дисплей Redmi Note 12", "BAT-IP13": "Акумулятор iPhone 13",
        "BAT-IP11": "Акумулятор iPhone 11", "BAT-A54": "Акумулятор Galaxy A54",
        "PORT-USBC-FLEX": "Шлейф роз'єму зарядки USB-C", "SVC-GLASS-FIT": "Поклейка захисного скла",
        "SVC-CLEAN": "Чищення після потрапляння рідини",
    },
    "ru": {
        "CASE-IP13-SIL": "Силиконовый чехол iPhone 13", "CASE-IP15-SIL": "Силиконовый чехол iPhone 15",
        "CASE-A54-BOOK": "Чехол-книжка Galaxy A54", "CASE-RN12-TPU": "Прозрачный чехол TPU Redmi Note 12",
        "GLASS-IP13": "Защитное стекло iPhone 13", "GLASS-IP15": "Защитное стекло iPhone 15",
        "GLASS-A54": "Защитное стекло Galaxy A54", "GLASS-RN12": "Защитное стекло Redmi Note 12",
        "CHG-20W-USBC": "Зарядное устройство 20 Вт USB-C", "CHG-65W-GAN": "Зарядное устройство 65 Вт GaN, 2 порта",
        "CBL-USBC-1M": "Кабель USB-C – USB-C, 1 м", "CBL-LTN-1M": "Кабель USB-C – Lightning, 1 м",
        "CBL-MICRO-1M": "Кабель USB-A – micro-USB, 1 м", "PWR-10K": "Пауэрбанк 10000 мА·ч",
        "HOLD-CAR-MAG": "Магнитный держатель в авто", "SCR-IP13-OLED": "Дисплей iPhone 13 (OLED)",
        "SCR-IP11-LCD": "Дисплей iPhone 11 (LCD)", "SCR-A54-AMO": "Дисплей Galaxy A54 (AMOLED)",
        "SCR-RN12-ORIG": "Дисплей Redmi Note 12", "BAT-IP13": "Аккумулятор iPhone 13",
        "BAT-IP11": "Аккумулятор iPhone 11", "BAT-A54": "Аккумулятор Galaxy A54",
        "PORT-USBC-FLEX": "Шлейф разъёма зарядки USB-C", "SVC-GLASS-FIT": "Поклейка защитного стекла",
        "SVC-CLEAN": "Чистка после попадания жидкости",
    },
    "ro": {
        "CASE-IP13-SIL": "Husă din silicon iPhone 13", "CASE-IP15-SIL": "Husă din silicon iPhone 15",
        "CASE-A54-BOOK": "Husă tip carte Galaxy A54", "CASE-RN12-TPU": "Husă transparentă TPU Redmi Note 12",
        "GLASS-IP13": "Folie de sticlă iPhone 13", "GLASS-IP15": "Folie de sticlă iPhone 15",
        "GLASS-A54": "Folie de sticlă Galaxy A54", "GLASS-RN12": "Folie de sticlă Redmi Note 12",
        "CHG-20W-USBC": "Încărcător 20 W USB-C", "CHG-65W-GAN": "Încărcător 65 W GaN, 2 porturi",
        "CBL-USBC-1M": "Cablu USB-C – USB-C, 1 m", "CBL-LTN-1M": "Cablu USB-C – Lightning, 1 m",
        "CBL-MICRO-1M": "Cablu USB-A – micro-USB, 1 m", "PWR-10K": "Baterie externă 10000 mAh",
        "HOLD-CAR-MAG": "Suport auto magnetic", "SCR-IP13-OLED": "Display iPhone 13 (OLED)",
        "SCR-IP11-LCD": "Display iPhone 11 (LCD)", "SCR-A54-AMO": "Display Galaxy A54 (AMOLED)",
        "SCR-RN12-ORIG": "Display Redmi Note 12", "BAT-IP13": "Acumulator iPhone 13",
        "BAT-IP11": "Acumulator iPhone 11", "BAT-A54": "Acumulator Galaxy A54",
        "PORT-USBC-FLEX": "Mufă de încărcare USB-C (flex)", "SVC-GLASS-FIT": "Aplicare folie de protecție",
        "SVC-CLEAN": "Curățare după contact cu lichide",
    },
}
# In a Ukrainian or Romanian (Moldovan) shop some customers would rather be written to in Russian.
SECOND_LANGUAGE = {"uk": "ru", "ro": "ru"}
# Demo phone numbers: a valid mobile series for the shop's region (the number after the prefix is the customer's).
PHONE_SERIES = {"UA": ("+38067", 7), "MD": ("+37369", 6), "RO": ("+40721", 6)}
