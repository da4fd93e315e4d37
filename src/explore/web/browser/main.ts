/**
 * The explorer's browser entry point: finds the page from the shell's
 * data-page and the address, and renders it. Any error ends as text on the
 * page (never as markup).
 */

import {main, errorBox, startPage} from './layout.js';
import {renderAlertPage} from './alert-page.js';
import {renderAlertsPage} from './alerts-page.js';
import {renderObjectPage} from './object-page.js';
import {renderQuarantinePage} from './quarantine-page.js';
import {currentSegments} from './routes.js';
import {renderSubscriptionsPage} from './subscriptions-page.js';

async function run(): Promise<void> {
  const kind = document.body.dataset.page;
  let seg: string[];
  try {
    seg = currentSegments();
  } catch {
    startPage('Bad address', 'Bad address', []);
    main().append(
      errorBox(new Error('the address is not valid percent-encoding')),
    );
    return;
  }
  switch (kind) {
    case 'subscriptions':
      return renderSubscriptionsPage();
    case 'alerts':
      return renderAlertsPage(seg[1]);
    case 'quarantine':
      return renderQuarantinePage(seg[1]);
    case 'alert':
      return renderAlertPage(seg[1], seg[3]);
    case 'object':
      return renderObjectPage(seg[1]);
    default:
      startPage('Not found', 'Not found', []);
  }
}

run().catch(e => {
  main().append(errorBox(e));
});
