/**
 * A ZTF-like alert schema written for tests and benchmarks (not the real
 * one): the same structure and a realistic size (~100 candidate fields with
 * docs, ~20 KB of schema text), and the real traps: 64-bit longs, nullable
 * numbers everywhere, and unions like `["float","null"]` with `default: null`
 * that strict Avro libraries reject.
 */

type Field = Record<string, unknown>;

/** `["float","null"]` + default null: the trap (first branch is not null). */
function trap(name: string, type: string, doc: string): Field {
  return {name, type: [type, 'null'], default: null, doc};
}

function opt(name: string, type: string, doc: string): Field {
  return {name, type: ['null', type], default: null, doc};
}

function req(name: string, type: string, doc: string): Field {
  return {name, type, doc};
}

const NULLABLE_FLOATS: Array<[string, string]> = [
  [
    'diffmaglim',
    'Expected 5-sigma limiting magnitude of the difference image [mag]',
  ],
  ['xpos', 'Image x coordinate of the candidate [pixels]'],
  ['ypos', 'Image y coordinate of the candidate [pixels]'],
  ['chipsf', 'Reduced chi-square of the PSF fit'],
  ['magap', 'Aperture magnitude in a fixed aperture [mag]'],
  ['sigmagap', 'Uncertainty of magap [mag]'],
  ['distnr', 'Distance to the nearest reference-image source [pixels]'],
  ['magnr', 'Magnitude of the nearest reference-image source [mag]'],
  ['sigmanr', 'Uncertainty of magnr [mag]'],
  ['chinr', 'DAOPhot chi of the nearest reference-image source'],
  ['sharpnr', 'DAOPhot sharp of the nearest reference-image source'],
  ['sky', 'Local sky background estimate [DN]'],
  ['magdiff', 'Difference between aperture and PSF magnitudes [mag]'],
  ['fwhm', 'Full width at half maximum from SExtractor [pixels]'],
  ['classtar', 'Star/galaxy score from SExtractor (0 galaxy .. 1 star)'],
  ['mindtoedge', 'Distance to the nearest image edge [pixels]'],
  ['magfromlim', 'Difference between the limiting magnitude and magap [mag]'],
  ['seeratio', 'Ratio of difference-image to science-image FWHM'],
  ['aimage', 'Profile RMS along the major axis [pixels]'],
  ['bimage', 'Profile RMS along the minor axis [pixels]'],
  ['aimagerat', 'aimage divided by fwhm'],
  ['bimagerat', 'bimage divided by fwhm'],
  ['elong', 'Elongation: aimage / bimage'],
  ['rb', 'Real-bogus quality score from a random forest (0 .. 1)'],
  ['ssdistnr', 'Distance to the nearest known solar-system object [arcsec]'],
  ['ssmagnr', 'Magnitude of the nearest known solar-system object [mag]'],
  ['sumrat', 'Ratio of the sum of pixels to the sum of absolute pixels'],
  ['magapbig', 'Aperture magnitude in a larger aperture [mag]'],
  ['sigmagapbig', 'Uncertainty of magapbig [mag]'],
  ['sgmag1', 'g magnitude of the closest catalog source [mag]'],
  ['srmag1', 'r magnitude of the closest catalog source [mag]'],
  ['simag1', 'i magnitude of the closest catalog source [mag]'],
  ['szmag1', 'z magnitude of the closest catalog source [mag]'],
  ['sgscore1', 'Star/galaxy score of the closest catalog source'],
  ['distpsnr1', 'Distance to the closest catalog source [arcsec]'],
  ['sgmag2', 'g magnitude of the second closest catalog source [mag]'],
  ['srmag2', 'r magnitude of the second closest catalog source [mag]'],
  ['simag2', 'i magnitude of the second closest catalog source [mag]'],
  ['szmag2', 'z magnitude of the second closest catalog source [mag]'],
  ['sgscore2', 'Star/galaxy score of the second closest catalog source'],
  ['distpsnr2', 'Distance to the second closest catalog source [arcsec]'],
  ['sgmag3', 'g magnitude of the third closest catalog source [mag]'],
  ['srmag3', 'r magnitude of the third closest catalog source [mag]'],
  ['simag3', 'i magnitude of the third closest catalog source [mag]'],
  ['szmag3', 'z magnitude of the third closest catalog source [mag]'],
  ['sgscore3', 'Star/galaxy score of the third closest catalog source'],
  ['distpsnr3', 'Distance to the third closest catalog source [arcsec]'],
  ['scorr', 'Peak pixel signal-to-noise ratio in the detection image'],
  ['dsnrms', 'Ratio of the detection S/N to the RMS of the difference image'],
  ['ssnrms', 'Ratio of the science-image S/N to its RMS'],
  ['dsdiff', 'Difference of statistics dsnrms - ssnrms'],
  ['magzpsci', 'Photometric zero point of the science image [mag]'],
  ['magzpsciunc', 'Uncertainty of magzpsci [mag]'],
  ['magzpscirms', 'RMS deviation of the zero-point calibrators [mag]'],
  ['clrcoeff', 'Color coefficient of the photometric calibration'],
  ['clrcounc', 'Uncertainty of clrcoeff'],
  ['zpclrcov', 'Covariance of the zero point and the color coefficient'],
  ['zpmed', 'Median zero point of the calibrators [mag]'],
  ['clrmed', 'Median color of the calibrators [mag]'],
  ['clrrms', 'RMS color of the calibrators [mag]'],
  ['neargaia', 'Distance to the closest astrometric catalog source [arcsec]'],
  ['neargaiabright', 'Distance to the closest bright catalog source [arcsec]'],
  ['maggaia', 'Magnitude of the closest astrometric catalog source [mag]'],
  ['maggaiabright', 'Magnitude of the closest bright catalog source [mag]'],
  ['exptime', 'Exposure time of the science image [s]'],
  ['drb', 'Real-bogus score from a deep-learning classifier (0 .. 1)'],
];

/** Names whose union is written `["float","null"]` / `["double","null"]` with default null. */
export const TRAP_FIELDS = new Set([
  'classtar',
  'sgscore1',
  'distpsnr1',
  'ssdistnr',
  'magnr',
  'rb',
  'drb',
  'jdstarthist',
  'jdendhist',
]);

function candidateFields(version: string): Field[] {
  const f: Field[] = [
    req('jd', 'double', 'Julian date at the start of the exposure [days]'),
    req('fid', 'int', 'Filter id (1 = g, 2 = r, 3 = i)'),
    req('pid', 'long', 'Processing id of the science image'),
    opt('pdiffimfilename', 'string', 'File name of the difference image'),
    opt('programpi', 'string', 'Principal investigator of the program'),
    req('programid', 'int', 'Program id: public, partnership or Caltech'),
    req('candid', 'long', 'Candidate id (64-bit)'),
    req('isdiffpos', 'string', 't/1: positive subtraction; f/0: negative'),
    opt('tblid', 'long', 'Extraction table id'),
    opt('nid', 'int', 'Night id'),
    opt('rcid', 'int', 'Readout channel id [0 .. 63]'),
    opt('field', 'int', 'Survey field id'),
    req('ra', 'double', 'Right ascension of the candidate, J2000 [deg]'),
    req('dec', 'double', 'Declination of the candidate, J2000 [deg]'),
    req('magpsf', 'float', 'PSF-fit magnitude [mag]'),
    req('sigmapsf', 'float', '1-sigma uncertainty of magpsf [mag]'),
    opt('ssnamenr', 'string', 'Name of the nearest known solar-system object'),
    opt(
      'ranr',
      'double',
      'Right ascension of the nearest reference source [deg]',
    ),
    opt('decnr', 'double', 'Declination of the nearest reference source [deg]'),
    opt('ndethist', 'int', 'Number of earlier detections at this position'),
    opt('ncovhist', 'int', 'Number of times this position was covered'),
    opt('jdstarthist', 'double', 'Julian date of the first detection [days]'),
    opt('jdendhist', 'double', 'Julian date of the last detection [days]'),
    opt('tooflag', 'int', '1 when the image came from a target of opportunity'),
    opt('objectidps1', 'long', 'Catalog id of the closest source'),
    opt('objectidps2', 'long', 'Catalog id of the second closest source'),
    opt('objectidps3', 'long', 'Catalog id of the third closest source'),
    opt('nmtchps', 'int', 'Number of catalog matches within 30 arcsec'),
    opt('rfid', 'long', 'Processing id of the reference image'),
    opt(
      'jdstartref',
      'double',
      'Julian date of the first reference epoch [days]',
    ),
    opt('jdendref', 'double', 'Julian date of the last reference epoch [days]'),
    opt('nframesref', 'int', 'Number of frames in the reference image'),
    opt('rbversion', 'string', 'Version of the real-bogus model'),
    opt('drbversion', 'string', 'Version of the deep real-bogus model'),
    opt('nneg', 'int', 'Number of negative pixels in a 5x5 box'),
    opt('nbad', 'int', 'Number of bad pixels in a 5x5 box'),
    opt('nmatches', 'int', 'Number of calibrator matches'),
  ];
  for (const [name, doc] of NULLABLE_FLOATS) f.push(opt(name, 'float', doc));
  if (version >= '4') {
    f.push(
      opt('sciinpseeing', 'float', 'Seeing of the science image [arcsec]'),
    );
    f.push(
      opt('scibckgnd', 'float', 'Background level of the science image [DN]'),
    );
  }
  return f.map(x => {
    const name = x.name as string;
    const t = x.type;
    if (TRAP_FIELDS.has(name) && Array.isArray(t) && t[0] === 'null') {
      return trap(name, t[1] as string, x.doc as string);
    }
    return x;
  });
}

function prvCandidateFields(): Field[] {
  const f: Field[] = [
    req('jd', 'double', 'Julian date at the start of the exposure [days]'),
    req('fid', 'int', 'Filter id (1 = g, 2 = r, 3 = i)'),
    req('pid', 'long', 'Processing id of the science image'),
    opt('diffmaglim', 'float', 'Expected 5-sigma limiting magnitude [mag]'),
    opt('pdiffimfilename', 'string', 'File name of the difference image'),
    opt('programpi', 'string', 'Principal investigator of the program'),
    req('programid', 'int', 'Program id'),
    opt('candid', 'long', 'Candidate id; null for a non-detection'),
    opt('isdiffpos', 'string', 't/1: positive subtraction; f/0: negative'),
    opt('tblid', 'long', 'Extraction table id'),
    opt('nid', 'int', 'Night id'),
    opt('rcid', 'int', 'Readout channel id'),
    opt('field', 'int', 'Survey field id'),
    opt('xpos', 'float', 'Image x coordinate [pixels]'),
    opt('ypos', 'float', 'Image y coordinate [pixels]'),
    {name: 'ra', type: ['double', 'null'], doc: 'Right ascension [deg]'},
    {name: 'dec', type: ['double', 'null'], doc: 'Declination [deg]'},
    opt('magpsf', 'float', 'PSF-fit magnitude [mag]'),
    opt('sigmapsf', 'float', 'Uncertainty of magpsf [mag]'),
  ];
  for (const [name, doc] of NULLABLE_FLOATS.slice(3, 40)) {
    f.push(opt(name, 'float', doc));
  }
  f.push(opt('ssnamenr', 'string', 'Name of the nearest solar-system object'));
  f.push(opt('rbversion', 'string', 'Version of the real-bogus model'));
  return f;
}

function fpHistFields(): Field[] {
  return [
    opt('field', 'int', 'Survey field id'),
    opt('rcid', 'int', 'Readout channel id'),
    req('fid', 'int', 'Filter id'),
    req('pid', 'long', 'Processing id of the science image'),
    req('rfid', 'long', 'Processing id of the reference image'),
    opt('sciinpseeing', 'float', 'Seeing of the science image [arcsec]'),
    opt('scibckgnd', 'float', 'Background of the science image [DN]'),
    opt('magzpsci', 'float', 'Zero point of the science image [mag]'),
    opt('exptime', 'float', 'Exposure time [s]'),
    opt(
      'diffmaglim',
      'float',
      'Limiting magnitude of the difference image [mag]',
    ),
    req('programid', 'int', 'Program id'),
    req('jd', 'double', 'Julian date [days]'),
    opt(
      'forcediffimflux',
      'float',
      'Forced PSF flux on the difference image [DN]',
    ),
    opt('forcediffimfluxunc', 'float', 'Uncertainty of forcediffimflux [DN]'),
    opt('procstatus', 'string', 'Forced photometry processing status'),
  ];
}

/** The ZTF-like writer schema of `version` ('3.3' has no fp_hists; '4.02' has). */
export function ztfLikeSchema(version = '4.02'): Record<string, unknown> {
  const fields: Field[] = [
    req('schemavsn', 'string', 'Schema version used'),
    req('publisher', 'string', 'Origin of the alert packet'),
    req('objectId', 'string', 'Object identifier or name'),
    req('candid', 'long', 'Candidate id (64-bit)'),
    {
      name: 'candidate',
      type: {
        type: 'record',
        name: 'candidate',
        namespace: 'ztf.alert',
        doc: 'Detection that triggered the alert',
        fields: candidateFields(version),
      },
    },
    {
      name: 'prv_candidates',
      type: [
        'null',
        {
          type: 'array',
          items: {
            type: 'record',
            name: 'prv_candidate',
            namespace: 'ztf.alert',
            doc: 'Earlier detection or upper limit',
            fields: prvCandidateFields(),
          },
        },
      ],
      default: null,
    },
  ];
  if (version >= '4') {
    fields.push({
      name: 'fp_hists',
      type: [
        'null',
        {
          type: 'array',
          items: {
            type: 'record',
            name: 'fp_hist',
            namespace: 'ztf.alert',
            doc: 'Forced photometry history',
            fields: fpHistFields(),
          },
        },
      ],
      default: null,
    });
  }
  const cutout = {
    type: 'record',
    name: 'cutout',
    namespace: 'ztf.alert',
    doc: 'Image stamp',
    fields: [
      req('fileName', 'string', 'File name of the stamp'),
      req('stampData', 'bytes', 'Gzipped FITS stamp'),
    ],
  };
  fields.push({name: 'cutoutScience', type: ['null', cutout], default: null});
  fields.push({
    name: 'cutoutTemplate',
    type: ['null', 'ztf.alert.cutout'],
    default: null,
  });
  fields.push({
    name: 'cutoutDifference',
    type: ['null', 'ztf.alert.cutout'],
    default: null,
  });
  return {
    type: 'record',
    version,
    name: 'alert',
    namespace: 'ztf',
    doc: 'ZTF-like alert schema generated for tests',
    fields,
  };
}

/** The schema text as a packet header carries it (Python-style `json.dumps` spacing). */
export function ztfLikeSchemaText(version = '4.02'): string {
  return JSON.stringify(ztfLikeSchema(version))
    .replace(/":/g, '": ')
    .replace(/,"/g, ', "');
}

export const CANDIDATE_FLOAT_FIELDS = NULLABLE_FLOATS.map(([n]) => n);
