import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { appCenterSpi } from '../../lib/express/spi-router';
import type { SpiHandlers } from '../../lib/appcenter/spi-options';

/** A listening Express app with `appCenterSpi()` at /spi: its SPI URL and a close function. */
export async function listenSpiApp(
  secretAppKey: string,
  handlers: SpiHandlers,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use('/spi', appCenterSpi({ secretAppKey, handlers }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/spi`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
