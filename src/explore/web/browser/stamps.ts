/**
 * The three stamps of an alert side by side, as the API renders them (PNG
 * from the packet's FITS, zscale, pixel-exact upscaling, north up), at their
 * natural size (FITS size × the render scale; CSS only narrows them on a
 * narrow screen), with a stretch switch and the original FITS to download.
 */

import {api} from './api.js';
import {h, image, link, replace} from './dom.js';

const KINDS = ['science', 'template', 'difference'] as const;
const STRETCHES = ['linear', 'asinh'] as const;

export function stampsSection(
  subscription: string,
  sourceId: string,
  objectId: string,
  available: string[],
): HTMLElement {
  const row = h('div', {class: 'stamps'});
  const choice = h(
    'fieldset',
    {class: 'stretch'},
    h('legend', null, 'Stretch'),
  );
  const draw = (stretch: string) => {
    replace(
      row,
      ...KINDS.map(kind => {
        if (!available.includes(kind)) {
          return h(
            'figure',
            {class: 'stamp missing'},
            h('div', {class: 'no-stamp'}, 'not stored'),
            h('figcaption', null, `${kind}: no stamp`),
          );
        }
        const img = image(
          api.stamp(
            subscription,
            sourceId,
            kind,
            'png',
            stretch === 'linear' ? undefined : {stretch},
          ),
          `${kind} stamp of ${objectId}, alert ${sourceId} (${stretch} stretch)`,
          {attrs: {'data-kind': kind, decoding: 'async'}},
        );
        const size = h('span', {class: 'size'});
        img.addEventListener('load', () => {
          size.textContent = ` · ${img.naturalWidth} × ${img.naturalHeight} px`;
        });
        img.addEventListener('error', () => {
          size.textContent = ' · could not be loaded';
        });
        return h(
          'figure',
          {class: 'stamp'},
          img,
          h(
            'figcaption',
            null,
            kind,
            size,
            ' · ',
            link(
              api.stamp(subscription, sourceId, kind, 'fits'),
              {attrs: {download: `${sourceId}-${kind}.fits`}},
              'FITS',
            ),
          ),
        );
      }),
    );
  };
  for (const s of STRETCHES) {
    const input = h('input', {
      attrs: {
        type: 'radio',
        name: 'stretch',
        value: s,
        checked: s === 'linear',
      },
    });
    input.addEventListener('change', () => input.checked && draw(s));
    choice.append(h('label', null, input, ` ${s}`));
  }
  draw('linear');
  return h('div', null, choice, row);
}
