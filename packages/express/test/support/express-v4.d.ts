// Express 4, installed as `express-v4` (npm:express@^4) to run the contract against both majors.
// Its API used here matches Express 5's types.
declare module 'express-v4' {
  import express from 'express';
  export default express;
}
