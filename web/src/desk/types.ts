// The staff desk's API types: the server's OpenAPI schemas (`npm run gen:api`), named as the
// desk uses them.
import type { components } from '../api.gen';

type Schemas = components['schemas'];

export type StaffRole = Schemas['StaffRole'];
export type StatusInfo = Schemas['StatusInfo'];
export type StaffMe = Schemas['StaffMe'];
export type StaffOrderRow = Schemas['StaffOrderItem'];
export type StaffOrderPage = Schemas['StaffOrderList'];
export type StaffCustomer = Schemas['StaffCustomer'];
export type MasterRef = Schemas['MasterRef'];
export type StaffOrderDetail = Schemas['StaffOrder'];
export type StatusChange = Schemas['StatusChange'];
export type StaffMessage = Schemas['StaffMessage'];
export type SummaryDay = Schemas['SummaryDay'];
export type TopProduct = Schemas['TopProduct'];
export type Funnel = Schemas['FunnelCounts'];
export type Summary = Schemas['Summary'];

export interface OrderFilter {
  status?: string;
  q?: string;
  from?: string;
  to?: string;
}
