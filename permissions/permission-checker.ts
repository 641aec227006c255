import type { PermissionModel } from '../models/permission';
import type { RoleModel } from '../models/role';
import type { Clock } from '../lib/clock';
import { TtlValue } from '../lib/ttl-cache';

/** Both are needed to sync (Rocket.Chat 8.5+). */
export const SYNC_PERMISSIONS = ['abac-management', 'manage-abac-admin-room-attributes'] as const;
export const DEFAULT_PERMISSION_ROLES = ['admin'];

export interface PermissionChecker {
  /** True when the roles grant every one of the permissions. */
  hasAll(userRoles: readonly string[], permissions: readonly string[]): Promise<boolean>;
  /** True when the roles grant both permissions the sync needs (SYNC_PERMISSIONS). */
  grantsSync(userRoles: readonly string[]): Promise<boolean>;
}

export interface MongoPermissionCheckerPorts {
  permissions: PermissionModel;
  roles: RoleModel;
  clock: Clock;
  /** A change to rocketchat_permissions or rocketchat_roles takes effect within this bound. */
  cacheTtlMs: number;
}

interface Grants {
  rolesByPermission: Map<string, Set<string>>;
  globalRoles: Set<string>;
}

/**
 * A permission is held when its roles intersect the user's roles. Only roles that exist with scope 'Users'
 * count: a room-scoped role ('Subscriptions') or a deleted role grants nothing globally.
 */
export class MongoPermissionChecker implements PermissionChecker {
  private readonly grants: TtlValue<Grants>;

  constructor(private readonly ports: MongoPermissionCheckerPorts) {
    this.grants = new TtlValue(() => this.load(), ports.cacheTtlMs, ports.clock);
  }

  async hasAll(userRoles: readonly string[], permissions: readonly string[]): Promise<boolean> {
    const { rolesByPermission, globalRoles } = await this.grants.get();
    const held = userRoles.filter((role) => globalRoles.has(role));
    return permissions.every((permission) => {
      const granting = rolesByPermission.get(permission);
      return granting !== undefined && held.some((role) => granting.has(role));
    });
  }

  grantsSync(userRoles: readonly string[]): Promise<boolean> {
    return this.hasAll(userRoles, SYNC_PERMISSIONS);
  }

  /** Creates the sync permissions with the admin role where they do not exist; never changes existing ones. */
  async ensureDefaults(): Promise<void> {
    const now = new Date(this.ports.clock.now());
    await this.ports.permissions.bulkWrite(
      SYNC_PERMISSIONS.map((permission) => ({
        updateOne: {
          filter: { _id: permission },
          update: { $setOnInsert: { roles: DEFAULT_PERMISSION_ROLES, _updatedAt: now } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    this.grants.invalidate();
  }

  private async load(): Promise<Grants> {
    const [permissions, roles] = await Promise.all([
      this.ports.permissions
        .find({ _id: { $in: [...SYNC_PERMISSIONS] } }, { roles: 1 })
        .lean()
        .exec(),
      this.ports.roles.find({ scope: 'Users' }, { _id: 1 }).lean().exec(),
    ]);
    return {
      rolesByPermission: new Map(
        permissions.map((permission) => [permission._id, new Set(permission.roles ?? [])]),
      ),
      globalRoles: new Set(roles.map((role) => role._id)),
    };
  }
}
