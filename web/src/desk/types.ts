// The staff desk's API types. Hand-written from the contract agreed with the server side
// (issue 22) until the staff routes are in the committed OpenAPI document; then these become
// aliases of the generated schemas.
import type { Order } from '../api';

export type StaffRole = 'manager' | 'viewer';

export interface StatusInfo {
  code: string;
  name: string;
}

export interface StaffMe {
  role: StaffRole;
  statuses: StatusInfo[];
  /** Status code → the codes an order in it may move to. */
  transitions: Record<string, string[]>;
}

export interface StaffOrderRow {
  id: number;
  number: string;
  status: string;
  status_name?: string | null;
  payment_state: string;
  /** Minor units. */
  total: number;
  currency: string;
  customer_name: string;
  phone: string;
  items_count: number;
  /** Unix milliseconds. */
  created_at: number;
}

export interface StaffOrderPage {
  items: StaffOrderRow[];
  next_cursor: string | null;
}

export interface StaffCustomer {
  telegram_user_id: number;
  name: string;
  phone: string;
  username?: string | null;
}

export interface MasterRef {
  system?: 'bitrix' | '1c' | null;
  id?: string | null;
  url?: string | null;
}

export interface StaffOrderDetail {
  order: Order;
  customer: StaffCustomer;
  master: MasterRef;
  allowed_next: string[];
}

export interface SummaryDay {
  /** YYYY-MM-DD. */
  date: string;
  orders: number;
  /** Minor units. */
  revenue: number;
  paid: number;
}

export interface TopProduct {
  product_id: string;
  name: string;
  quantity: number;
  revenue: number;
}

export interface Funnel {
  app_opens: number;
  product_views: number;
  carts: number;
  checkouts: number;
  orders: number;
  paid: number;
}

export interface Summary {
  from: string;
  to: string;
  currency: string;
  days: SummaryDay[];
  orders: number;
  revenue: number;
  average_order: number;
  /** 0…1. */
  paid_share: number;
  top_products: TopProduct[];
  funnel: Funnel;
}

export interface OrderFilter {
  status?: string;
  q?: string;
  from?: string;
  to?: string;
}
