import { describe, expect, it } from 'vitest';
import type { TenantConfig } from '@tenant/interfaces';
import { describeTenant } from '../src/index.js';

describe('describeTenant', () => {
  it('names the tenant and its status', () => {
    const tenant = { id: 'acme', status: 'suspended' } as TenantConfig;
    expect(describeTenant(tenant)).toBe('acme (suspended)');
  });
});
