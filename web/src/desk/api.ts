// The staff API (`/api/v1/staff/…`), through the app's one request function (same sign-in,
// timeout and problem handling as the shop's calls).
import { request } from '../api';
import { ordersQuery } from './logic';
import type { OrderFilter, StaffMe, StaffMessage, StaffOrderDetail, StaffOrderPage, StatusChange, Summary } from './types';

export const deskApi = {
  me: () => request<StaffMe>('GET', '/api/v1/staff/me'),
  orders: (f: OrderFilter, cursor: string | null) =>
    request<StaffOrderPage>('GET', `/api/v1/staff/orders?${ordersQuery(f, cursor)}`),
  order: (id: number) => request<StaffOrderDetail>('GET', `/api/v1/staff/orders/${id}`),
  setStatus: (id: number, status: string, note: string | null) =>
    request<StaffOrderDetail>('POST', `/api/v1/staff/orders/${id}/status`, (note ? { status, note } : { status }) satisfies StatusChange),
  message: (id: number, text: string) =>
    request<StaffOrderDetail>('POST', `/api/v1/staff/orders/${id}/message`, { text } satisfies StaffMessage),
  summary: (from: string, to: string) =>
    request<Summary>('GET', `/api/v1/staff/summary?from=${from}&to=${to}`),
};
