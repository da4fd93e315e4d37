/**
 * Links to the same object on the public broker portals. Each URL is built
 * here from a fixed https origin and an object id that must have the
 * survey's own form (ZTF: ZTF + 2 digits + 7 letters; LSST: the decimal
 * diaObjectId); any other id gets no link at all.
 *   ZTF:  ALeRCE alerce.online/object/ID, Fink fink-portal.org/ID, Lasair
 *         lasair-ztf.lsst.ac.uk/objects/ID/.
 *   LSST: ALeRCE lsst.alerce.online/object/ID?survey=lsst (the form Rubin's
 *         own Portal tutorial links), Fink lsst.fink-portal.org/ID, Lasair
 *         lasair.lsst.ac.uk/objects/ID/.
 */

import {Href, trustedHref} from './dom.js';

export interface BrokerLink {
  broker: string;
  href: Href;
}

const ZTF_ID = /^ZTF\d{2}[a-z]{7}$/;
const LSST_ID = /^[1-9]\d{0,19}$/;

function url(
  origin: string,
  path: string,
  query?: Record<string, string>,
): Href {
  const u = new URL(path, origin);
  for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
  if (u.origin !== origin) throw new Error('broker link left its origin');
  return trustedHref(u);
}

export function brokerLinks(survey: string, objectId: string): BrokerLink[] {
  if (survey === 'ztf' && ZTF_ID.test(objectId)) {
    return [
      {
        broker: 'ALeRCE',
        href: url('https://alerce.online', `/object/${objectId}`),
      },
      {broker: 'Fink', href: url('https://fink-portal.org', `/${objectId}`)},
      {
        broker: 'Lasair',
        href: url('https://lasair-ztf.lsst.ac.uk', `/objects/${objectId}/`),
      },
    ];
  }
  if (survey === 'lsst' && LSST_ID.test(objectId)) {
    return [
      {
        broker: 'ALeRCE',
        href: url('https://lsst.alerce.online', `/object/${objectId}`, {
          survey: 'lsst',
        }),
      },
      {
        broker: 'Fink',
        href: url('https://lsst.fink-portal.org', `/${objectId}`),
      },
      {
        broker: 'Lasair',
        href: url('https://lasair.lsst.ac.uk', `/objects/${objectId}/`),
      },
    ];
  }
  return [];
}
