// The main entry, for contrast: its types name node:http, so without
// @types/node this file does not compile (../fetch-types.test.ts checks that).
import { adapterRequest } from '@tenant/core';

export const view = adapterRequest;
