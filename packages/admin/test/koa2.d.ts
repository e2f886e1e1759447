// The `koa2` alias (npm:koa@2) has no types of its own; its API is the same for what the tests use.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
