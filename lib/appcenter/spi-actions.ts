/** The SPI actions AppCenter sends; `TestConnection` is answered by the router itself. */
export type SpiAction =
  | 'CreateAppInstance'
  | 'RenewAppInstance'
  | 'UpgradeAppInstance'
  | 'ExpireAppInstance'
  | 'DeleteAppInstance'
  | 'TestConnection';

/** The actions a vendor handles (every SPI action but `TestConnection`). */
export type SpiHandledAction = Exclude<SpiAction, 'TestConnection'>;

export const SPI_HANDLED_ACTIONS: readonly SpiHandledAction[] = [
  'CreateAppInstance',
  'RenewAppInstance',
  'UpgradeAppInstance',
  'ExpireAppInstance',
  'DeleteAppInstance',
];
