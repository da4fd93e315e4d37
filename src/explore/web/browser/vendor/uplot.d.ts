// The chart library as the browser loads it: the server maps
// static/js/vendor/uplot.js to uplot's own ES module build
// (node_modules/uplot/dist/uPlot.esm.js). Types: the package's.
import uPlot from 'uplot';
export default uPlot;
