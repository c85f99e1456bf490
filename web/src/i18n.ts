// UI texts in Russian (default) and English, chosen from the Telegram user's language_code.

const ru = {
  catalog: 'Каталог',
  search: 'Поиск товаров',
  all: 'Все товары',
  filters: 'Фильтры',
  apply: 'Показать',
  reset: 'Сбросить',
  inStock: 'Только в наличии',
  sort: 'Сортировка',
  'sort.popular': 'Популярные',
  'sort.price_asc': 'Сначала дешевле',
  'sort.price_desc': 'Сначала дороже',
  'sort.new': 'Новинки',
  'sort.name': 'По названию',
  found: (n: number) => `${n} ${plural(n, 'товар', 'товара', 'товаров')}`,
  nothing: 'Ничего не нашлось',
  nothingHint: 'Попробуйте другой запрос или сбросьте фильтры',
  outOfStock: 'Нет в наличии',
  from: 'от',
  oldPrice: 'Цена без скидки',
  addToCart: 'В корзину',
  added: 'Добавлено в корзину',
  inCart: 'В корзине',
  toCart: 'Перейти в корзину',
  variant: 'Вариант',
  unavailable: 'нет',
  left: (n: number) => `осталось ${n}`,
  properties: 'Характеристики',
  cart: 'Корзина',
  cartEmpty: 'Корзина пуста',
  cartEmptyHint: 'Добавьте товары из каталога',
  priceChanged: (was: string) => `Цена изменилась: было ${was}`,
  removed: 'Товар больше не продаётся',
  notEnough: (n: number) => `В наличии только ${n}`,
  total: 'Итого',
  items: 'Товары',
  delivery: 'Доставка',
  free: 'бесплатно',
  freeFrom: (s: string) => `бесплатно от ${s}`,
  checkout: 'Оформить заказ',
  checkoutWithTotal: (s: string) => `Оформить заказ · ${s}`,
  order: 'Заказ',
  placeOrder: (s: string) => `Подтвердить заказ · ${s}`,
  name: 'Имя',
  phone: 'Телефон',
  sharePhone: 'Взять из Telegram',
  address: 'Адрес доставки',
  pickupPoint: 'Пункт самовывоза',
  comment: 'Комментарий к заказу',
  email: 'E-mail (необязательно)',
  coupon: 'Купон на скидку',
  'field.invalid_email': 'Адрес почты, например anna@example.ru',
  'field.invalid_coupon': 'Буквы, цифры, - и _, до 50 знаков',
  'field.coupons_unsupported': 'Магазин не принимает купоны',
  cancelReason: 'Причина отмены',
  trackingNumber: 'Трек-номер',
  refundDue: (s: string) => `К возврату: ${s}`,
  payment: 'Оплата',
  'payment.on_receipt': 'При получении',
  'payment.telegram': 'Картой в Telegram',
  'payment.stars': 'Telegram Stars',
  onlinePaymentNote:
    'Онлайн-оплата в Telegram появится, когда магазин подключит бота с платёжным провайдером.',
  fixErrors: 'Проверьте выделенные поля',
  orderPlaced: 'Заказ оформлен',
  orderPlacedHint: 'Мы пришлём уведомление, когда статус изменится.',
  myOrders: 'Мои заказы',
  pay: (s: string) => `Оплатить · ${s}`,
  payInTelegram: 'Оплата открывается в Telegram: откройте магазин из бота.',
  'payment_state.paid': 'Оплачен',
  'payment_state.unpaid': 'Не оплачен',
  'payment_state.refunded': 'Деньги возвращены',
  noOrders: 'Заказов пока нет',
  continueShopping: 'Продолжить покупки',
  status: 'Статус',
  'status.new': 'Новый',
  'status.confirmed': 'Подтверждён',
  'status.paid': 'Оплачен',
  'status.shipped': 'Отправлен',
  'status.delivered': 'Доставлен',
  'status.cancelled': 'Отменён',
  offline: 'Нет связи с магазином',
  retrying: 'Пробуем ещё раз…',
  retry: 'Повторить',
  error: 'Что-то пошло не так',
  back: 'Назад',
  loading: 'Загрузка…',
  'field.required': 'Заполните поле',
  'field.invalid_phone': 'Телефон с кодом страны, например +7 999 123-45-67',
  suggestions: 'Подсказки',
  demoBanner: 'Демо-режим: вход без Telegram',
  'problem.rate_limited': 'Слишком много запросов подряд. Подождите немного и повторите.',
  'problem.too_many_unpaid_orders':
    'У вас уже есть неоплаченные заказы. Оплатите один из них или дождитесь, пока время на оплату истечёт.',
  'problem.line_quantity_limit': 'Столько одного товара в один заказ не положить.',
  'problem.payment_hold_expired': 'Время на оплату истекло, заказ отменён. Оформите его заново.',
  'note.payment_hold_expired': 'Не оплачен вовремя, товары вернулись в каталог',
  'note.payment_after_cancel': 'Оплата пришла после отмены: магазин вернёт деньги или свяжется с вами',
  maxPerLine: (n: number) => `Не больше ${n} шт. в заказе`,
  payBefore: (time: string) => `Оплатите до ${time}, иначе заказ отменится`,
  payWithin: (minutes: number) => `Онлайн-оплата: заказ ждёт оплаты ${minutes} мин`,
  favorites: 'Избранное',
  favoritesEmpty: 'В избранном пока пусто',
  favoritesEmptyHint: 'Нажмите на сердечко у товара, чтобы вернуться к нему позже',
  favoriteAdd: 'Добавить в избранное',
  favoriteRemove: 'Убрать из избранного',
  favoriteUnavailable: 'Сейчас не продаётся',
  notifyStock: 'Сообщить о поступлении',
  notifyStockOn: 'Сообщим о поступлении · отменить',
  notifyPrice: 'Сообщить о снижении цены',
  notifyPriceOn: 'Сообщим о снижении цены · отменить',
  notifyHint: 'Бот пришлёт сообщение один раз.',
  share: 'Поделиться',
  repeatOrder: 'Повторить',
  repeatNotAdded: 'Не всё из заказа попало в корзину:',
  repeatPrices: 'Цены изменились:',
  addedOf: (added: number, ordered: number) => `добавлено ${added} из ${ordered}`,
  dismiss: 'Понятно',
  'notAdded.gone': 'товара больше нет в каталоге',
  'notAdded.not_for_sale': 'сейчас не продаётся',
  'notAdded.out_of_stock': 'нет в наличии',
  'notAdded.partly_in_stock': 'в наличии меньше',
  'notAdded.line_quantity_limit': 'больше в один заказ не положить',
  'problem.favorites_limit': 'В избранном уже максимум товаров. Уберите что-нибудь, чтобы добавить новое.',
  'problem.subscriptions_limit': 'Подписок уже слишком много. Отмените ненужные, чтобы добавить новую.',
  'problem.product_not_found': 'Этого товара больше нет в каталоге.',
  'problem.offer_not_found': 'Этого варианта больше нет в каталоге.',
  appFailed: 'Приложение не загрузилось до конца',
};

type Dict = typeof ru;

const en: Dict = {
  catalog: 'Catalog',
  search: 'Search products',
  all: 'All products',
  filters: 'Filters',
  apply: 'Show',
  reset: 'Reset',
  inStock: 'In stock only',
  sort: 'Sort',
  'sort.popular': 'Popular',
  'sort.price_asc': 'Price: low to high',
  'sort.price_desc': 'Price: high to low',
  'sort.new': 'New',
  'sort.name': 'Name',
  found: (n: number) => `${n} ${n === 1 ? 'product' : 'products'}`,
  nothing: 'Nothing found',
  nothingHint: 'Try another query or reset the filters',
  outOfStock: 'Out of stock',
  from: 'from',
  oldPrice: 'Price before discount',
  addToCart: 'Add to cart',
  added: 'Added to cart',
  inCart: 'In cart',
  toCart: 'Go to cart',
  variant: 'Option',
  unavailable: 'n/a',
  left: (n: number) => `${n} left`,
  properties: 'Details',
  cart: 'Cart',
  cartEmpty: 'Your cart is empty',
  cartEmptyHint: 'Add something from the catalog',
  priceChanged: (was: string) => `Price changed: was ${was}`,
  removed: 'No longer sold',
  notEnough: (n: number) => `Only ${n} in stock`,
  total: 'Total',
  items: 'Items',
  delivery: 'Delivery',
  free: 'free',
  freeFrom: (s: string) => `free from ${s}`,
  checkout: 'Checkout',
  checkoutWithTotal: (s: string) => `Checkout · ${s}`,
  order: 'Order',
  placeOrder: (s: string) => `Place order · ${s}`,
  name: 'Name',
  phone: 'Phone',
  sharePhone: 'Use my Telegram number',
  address: 'Delivery address',
  pickupPoint: 'Pickup point',
  comment: 'Comment',
  email: 'E-mail (optional)',
  coupon: 'Discount coupon',
  'field.invalid_email': 'An e-mail address, e.g. anna@example.com',
  'field.invalid_coupon': 'Letters, digits, - and _, up to 50',
  'field.coupons_unsupported': 'This shop takes no coupons',
  cancelReason: 'Reason',
  trackingNumber: 'Tracking number',
  refundDue: (s: string) => `To be refunded: ${s}`,
  payment: 'Payment',
  'payment.on_receipt': 'On delivery',
  'payment.telegram': 'Card in Telegram',
  'payment.stars': 'Telegram Stars',
  onlinePaymentNote:
    'Online payment in Telegram becomes available once the shop connects a bot with a payment provider.',
  fixErrors: 'Please check the highlighted fields',
  orderPlaced: 'Order placed',
  orderPlacedHint: 'We will notify you when its status changes.',
  myOrders: 'My orders',
  pay: (s: string) => `Pay · ${s}`,
  payInTelegram: 'Payment opens in Telegram: open the shop from the bot.',
  'payment_state.paid': 'Paid',
  'payment_state.unpaid': 'Not paid',
  'payment_state.refunded': 'Refunded',
  noOrders: 'No orders yet',
  continueShopping: 'Continue shopping',
  status: 'Status',
  'status.new': 'New',
  'status.confirmed': 'Confirmed',
  'status.paid': 'Paid',
  'status.shipped': 'Shipped',
  'status.delivered': 'Delivered',
  'status.cancelled': 'Cancelled',
  offline: 'Cannot reach the shop',
  retrying: 'Retrying…',
  retry: 'Retry',
  error: 'Something went wrong',
  back: 'Back',
  loading: 'Loading…',
  'field.required': 'Required',
  'field.invalid_phone': 'A phone number with country code, e.g. +44 20 7946 0958',
  suggestions: 'Suggestions',
  demoBanner: 'Demo mode: signed in without Telegram',
  'problem.rate_limited': 'Too many requests in a row. Please wait a moment and try again.',
  'problem.too_many_unpaid_orders':
    'You already have unpaid orders. Pay for one of them or wait until its time to pay runs out.',
  'problem.line_quantity_limit': 'That is more of one item than an order can hold.',
  'problem.payment_hold_expired': 'The time to pay ran out and the order was cancelled. Please order again.',
  'note.payment_hold_expired': 'Not paid in time; the goods are back in the catalog',
  'note.payment_after_cancel': 'The payment arrived after cancellation: the shop will refund it or contact you',
  maxPerLine: (n: number) => `At most ${n} per order`,
  payBefore: (time: string) => `Pay by ${time}, or the order is cancelled`,
  payWithin: (minutes: number) => `Online payment: the order waits ${minutes} min for it`,
  favorites: 'Favourites',
  favoritesEmpty: 'No favourites yet',
  favoritesEmptyHint: 'Tap the heart on a product to come back to it later',
  favoriteAdd: 'Add to favourites',
  favoriteRemove: 'Remove from favourites',
  favoriteUnavailable: 'Not for sale now',
  notifyStock: 'Notify me when in stock',
  notifyStockOn: 'We will tell you when in stock · cancel',
  notifyPrice: 'Notify me of a price drop',
  notifyPriceOn: 'We will tell you of a price drop · cancel',
  notifyHint: 'The bot sends one message.',
  share: 'Share',
  repeatOrder: 'Order again',
  repeatNotAdded: 'Not everything from the order went into the cart:',
  repeatPrices: 'Prices have changed:',
  addedOf: (added: number, ordered: number) => `${added} of ${ordered} added`,
  dismiss: 'OK',
  'notAdded.gone': 'no longer in the catalog',
  'notAdded.not_for_sale': 'not for sale now',
  'notAdded.out_of_stock': 'out of stock',
  'notAdded.partly_in_stock': 'fewer in stock',
  'notAdded.line_quantity_limit': 'more than an order can hold',
  'problem.favorites_limit': 'Your favourites are full. Remove something to add a new one.',
  'problem.subscriptions_limit': 'Too many alerts already. Cancel some to add a new one.',
  'problem.product_not_found': 'This product is no longer in the catalog.',
  'problem.offer_not_found': 'This option is no longer in the catalog.',
  appFailed: 'The app did not load completely',
};

export type Lang = 'ru' | 'en';
let lang: Lang = 'ru';
let dict: Dict = ru;

export function pickLang(code: string | null | undefined): Lang {
  return code && code.toLowerCase().startsWith('en') ? 'en' : 'ru';
}

export function setLang(l: Lang): void {
  lang = l;
  dict = l === 'en' ? en : ru;
  document.documentElement.lang = l;
}

export function currentLang(): Lang {
  return lang;
}

export function t<K extends keyof Dict>(key: K): Dict[K] {
  return dict[key];
}

/** A text by a dynamic key (statuses, sorts), falling back to the key itself. */
export function tk(key: string): string {
  const v = (dict as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : key.split('.').pop() ?? key;
}

/** A known dynamic text (`problem.…`, `note.…`), or null. */
export function known(key: string): string | null {
  const v = (dict as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : null;
}

/** A timeline note in words: vitrina's own notes are codes; anything else is shown as sent. */
export function noteText(note: string): string {
  return known(`note.${note}`) ?? note;
}

export function plural(n: number, one: string, few: string, many: string): string {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** Minor units to a localized price: 1299000 RUB → «12 990 ₽». */
export function formatPrice(minor: number, currency = 'RUB'): string {
  if (currency === 'XTR') return `${minor} ⭐`;
  const key = `${lang}:${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'ru-RU', {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: 0,
      maximumFractionDigits: 2,
    });
    formatters.set(key, f);
  }
  return f.format(minor / 100);
}

export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ru-RU', {
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(ms));
}

export function formatDate(ms: number): string {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ru-RU', {
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(ms));
}
